"""What every python-barbicanclient compat script shares: named checks, the expected-HTTP-error check, and a
client that authenticates with an Arca token and no Keystone. Imported from the scripts' own directory."""

from barbicanclient import client as barbican_client
from barbicanclient import exceptions as barbican_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

CHECKS = []


def check(cond, what, detail=""):
    """Record a passed check or raise with a message naming it."""
    if not cond:
        raise AssertionError(f"{what}{': ' + detail if detail else ''}")
    CHECKS.append(what)
    print(f"ok   {what}", flush=True)


def expect_http_error(fn, status, what):
    """fn() must raise barbicanclient's HTTP error with the given status."""
    try:
        result = fn()
    except barbican_exc.HTTPClientError as e:
        check(e.status_code == status, what,
              f"expected HTTP {status}, got HTTPClientError {e.status_code}: {e}")
        return
    except barbican_exc.HTTPAuthError as e:
        check(status == 401, what, f"expected HTTP {status}, got HTTPAuthError (401): {e}")
        return
    except barbican_exc.HTTPServerError as e:
        raise AssertionError(f"{what}: expected HTTP {status}, got server error "
                             f"{e.status_code}: {e}")
    raise AssertionError(f"{what}: expected HTTP {status}, but the call succeeded "
                         f"and returned {result!r}")


def make_client(url, token, timeout=30):
    """A barbicanclient Client for `url` with an Arca token (keystoneauth1's token endpoint, no Keystone)."""
    sess = ks_session.Session(auth=token_endpoint.Token(url, token), timeout=timeout)
    return barbican_client.Client(session=sess, endpoint=url)
