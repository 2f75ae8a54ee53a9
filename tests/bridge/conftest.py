from tests.bridge.helpers import home, mock  # noqa: F401 - fixtures
