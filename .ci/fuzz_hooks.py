"""Schemathesis hooks of .ci/fuzz-api (loaded through SCHEMATHESIS_HOOKS).

The fuzzing client holds every scope, `admin` included, so the operations on API clients may
revoke it, rotate its secret or take its scopes away: every later request would then hear 401
and test nothing. Those operations are pointed at a spare client instead (FUZZ_SPARE_CLIENT_ID),
which they may break at will. The token endpoint gets the real credentials of a third client
(FUZZ_TOKEN_CLIENT_ID, kept from the operations on clients like the fuzzing client) in the cases
meant to be valid, so that it is exercised past its 401; it is sent without the bearer token,
which the token endpoint refuses beside a client's credentials.
"""

import os

import schemathesis

OWN = os.environ["FUZZ_CLIENT_ID"]
SPARE = os.environ["FUZZ_SPARE_CLIENT_ID"]
TOKEN_CLIENT = os.environ["FUZZ_TOKEN_CLIENT_ID"]
TOKEN_SECRET = os.environ["FUZZ_TOKEN_CLIENT_SECRET"]


def positive(case):
    generation = getattr(getattr(case, "meta", None), "generation", None)
    return str(getattr(generation, "mode", "")).lower().endswith("positive")


@schemathesis.auth().skip_for(path="/v1/auth/token")
class Bearer:
    """The fuzzing client's token on every operation but the token endpoint."""

    def get(self, case, context):
        return os.environ["FUZZ_TOKEN"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path.startswith("/v1/clients/{id}") and (case.path_parameters or {}).get("id") in (OWN, TOKEN_CLIENT):
        case.path_parameters["id"] = SPARE
    if path == "/v1/auth/token" and isinstance(case.body, dict) and positive(case):
        case.body["client_id"] = TOKEN_CLIENT
        case.body["client_secret"] = TOKEN_SECRET
