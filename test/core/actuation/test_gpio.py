"""GPIO output: without a GPIO library the error says so (on a Jetson the line is driven)."""

from __future__ import annotations

import importlib.util

import pytest

from inspection_nodes.core.actuation.gpio import GpioOutput
from inspection_nodes.core.actuation.output import OutputError


@pytest.mark.skipif(
    importlib.util.find_spec("gpiod") is not None or importlib.util.find_spec("Jetson") is not None,
    reason="a GPIO library is installed here",
)
def test_gpio_unavailable_is_a_clear_error():
    with pytest.raises(OutputError, match="GPIO unavailable"):
        GpioOutput("gpiochip0", 3)
