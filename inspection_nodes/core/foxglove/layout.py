"""The Foxglove layout of the cell (config/foxglove/inspection_cell_layout.json), built with the
SDK's layout types so it stays valid for the SDK's version.

Left: the ROI as the camera's unit image and the heatmap overlay (the light JPEG channels, for a
laptop on the plant network); right: the last verdict, score and camera -> verdict time against
the unit stream, the stability index and line rhythm, and the nodes' diagnostics.
Regenerate it with
`python -m inspection_nodes.core.foxglove.layout > config/foxglove/inspection_cell_layout.json`.
"""

from __future__ import annotations

import json

import foxglove.layouts as fl


def _image(topic: str, title: str) -> fl.SplitItem:
    mode = fl.ImageModeConfig(image_topic=topic, image_schema_name="foxglove.CompressedImage")
    return fl.SplitItem(content=fl.ImagePanel(title=title, config=fl.ImageConfig(image_mode=mode)))


def _plot(title: str, *paths: str) -> fl.SplitItem:
    series = [fl.PlotSeries(value=path) for path in paths]
    return fl.SplitItem(content=fl.PlotPanel(title=title, config=fl.PlotConfig(paths=series)))


def cell_layout() -> fl.Layout:
    images = fl.SplitContainer(
        direction="column",
        items=[
            _image("/roi/image/compressed", "ROI"),
            _image("/anomaly/heatmap/compressed", "Heatmap overlay"),
        ],
    )
    verdict = fl.RawMessagesPanel(
        title="Last verdict", config=fl.RawMessagesConfig(topic_path="/verdict")
    )
    results = fl.SplitContainer(
        direction="column",
        items=[
            fl.SplitItem(content=verdict),
            _plot("Score and camera -> verdict (ms)", "/verdict.score", "/verdict.decided_at_ms"),
            _plot("Stability index and line rhythm", "/stability.index", "/stability.rhythm_gap_s"),
            fl.SplitItem(
                content=fl.TablePanel(
                    title="Diagnostics", config=fl.TableConfig(topic_path="/diagnostics")
                )
            ),
        ],
    )
    return fl.Layout(
        content=fl.SplitContainer(
            direction="row",
            items=[fl.SplitItem(proportion=1.2, content=images), fl.SplitItem(content=results)],
        )
    )


def layout_json() -> str:
    """The layout as the shipped file holds it (indented, one trailing newline)."""
    return json.dumps(json.loads(cell_layout().to_json()), indent=2) + "\n"


if __name__ == "__main__":
    print(layout_json(), end="")
