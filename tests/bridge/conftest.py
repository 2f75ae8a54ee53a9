from tests.bridge.helpers import home, mock, proxied, proxied_home  # noqa: F401 - fixtures
