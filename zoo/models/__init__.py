"""The model zoo; importing this package registers every model with :mod:`zoo.registry`."""

from zoo.models.cnn import LeNet5
from zoo.models.dram import DRAM
from zoo.models.mram import MRAM
from zoo.models.ram import RAM

__all__ = ["DRAM", "MRAM", "RAM", "LeNet5"]
