"""AnomalyEngine facade on a small synthetic model (enrolled once per module)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.anomaly_data import defect_image, good_image

from inspection_nodes.core.anomaly.engine import AnomalyEngine, AnomalyScore, EngineError
from inspection_nodes.core.anomaly.enrollment import EnrollConfig, enroll_images


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    images = [good_image(rng) for _ in range(6)]
    out = tmp_path_factory.mktemp("model") / "synthetic"
    enroll_images(images, [f"good_{i}.png" for i in range(6)], out, EnrollConfig(input_size=224))
    return out


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> AnomalyEngine:
    return AnomalyEngine.load(model_dir)


def test_load_exposes_model_facts(engine: AnomalyEngine) -> None:
    assert engine.input_size == 224 and engine.method == "patchcore"
    assert engine.backend == "onnxruntime" and engine.feature_shape == (28, 28, 152)
    assert engine.image_threshold > 0 and engine.pixel_threshold > 0
    assert engine.model_version.startswith("patchcore-efficientnet_lite0")


def test_defect_scores_higher_and_is_localised(engine: AnomalyEngine) -> None:
    rng = np.random.default_rng(5)
    good = engine.score(engine.embed(good_image(rng)), (96, 96))
    bad_img, mask = defect_image(rng)
    patches = engine.embed(bad_img)
    assert patches.shape == (28, 28, 152) and patches.dtype == np.float32
    assert patches.flags.c_contiguous
    bad = engine.score(patches, (96, 96))
    assert isinstance(bad, AnomalyScore) and bad.anomaly_map.shape == (96, 96)
    assert bad.score > engine.image_threshold > good.score
    assert mask[bad.peak] == 255
    assert bad.area_px >= bad.largest_region_px > 0 and good.area_px == 0
    assert bad.max_pixel_score == pytest.approx(float(bad.anomaly_map.max()))
    assert bad.nearest_normals and all(n.startswith("good_") for n in bad.nearest_normals)
    pic = engine.overlay(bad_img, bad.anomaly_map)
    assert pic.shape == (96, 96, 3) and pic.dtype == np.uint8


def test_bad_inputs_raise_engine_error(engine: AnomalyEngine) -> None:
    with pytest.raises(EngineError, match="uint8"):
        engine.embed(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(EngineError, match="RGB"):
        engine.embed(np.zeros((64, 64), np.uint8))
    with pytest.raises(EngineError, match="shape"):
        engine.score(np.zeros((14, 14, 152), np.float32), (224, 224))


def test_missing_and_incompatible_model(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(EngineError, match="not a model directory"):
        AnomalyEngine.load(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    manifest = (model_dir / "manifest.json").read_text()
    (broken / "manifest.json").write_text(
        manifest.replace('"format_version": 1', '"format_version": 99')
    )
    with pytest.raises(EngineError, match="format_version"):
        AnomalyEngine.load(broken)
    (broken / "manifest.json").write_text(manifest)
    with pytest.raises(EngineError, match="incomplete or corrupt"):
        AnomalyEngine.load(broken)
    with pytest.raises(EngineError, match="unknown backend"):
        AnomalyEngine.load(model_dir, backend="tflite")


def test_scoring_only_engine_matches(model_dir: Path, engine: AnomalyEngine) -> None:
    scorer = AnomalyEngine.load(model_dir, backend="none")
    patches = engine.embed(good_image(np.random.default_rng(9)))
    assert scorer.score(patches, (224, 224)).score == engine.score(patches, (224, 224)).score
    with pytest.raises(EngineError, match="without a backbone"):
        scorer.embed(np.zeros((32, 32, 3), np.uint8))


THREADS = """
import json, faiss, threadpoolctl
def now():
    blas = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    return {"faiss": faiss.omp_get_max_threads(), "blas": blas}
before = now()
import inspection_nodes.core.anomaly.engine, inspection_nodes.core.anomaly.enrollment
imported = now()
inspection_nodes.core.anomaly.engine.AnomalyEngine.load(MODEL, backend="none")
print(json.dumps([before, imported, now()]))
"""


def test_import_sets_no_threads_and_building_an_engine_does(model_dir: Path) -> None:
    """Importing core changes nothing process-wide; building an engine limits BLAS and faiss
    to one thread each (AnomalyEngine docstring)."""
    import json

    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    code = THREADS.replace("MODEL", repr(str(model_dir)))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    before, imported, built = json.loads(out.stdout.splitlines()[-1])
    assert before["faiss"] == imported["faiss"] == 2 and set(imported["blas"]) == {2}
    assert built["faiss"] == 1 and built["blas"] and set(built["blas"]) == {1}
