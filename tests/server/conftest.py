import pytest
from faulty_server import running


@pytest.fixture(scope="session")
def faulty_url():
    with running() as url:
        yield url
