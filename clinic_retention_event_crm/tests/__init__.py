from . import test_screening
