"""One Slack Web API call, as slack_sdk's AsyncWebClient sends it, for the delivery hot path.

The poster makes two or three calls per card; slack_sdk's `api_call` built its request arguments, a
retry state, and debug strings of the whole request and answer (its logger has no level of its own,
so `logger.level <= DEBUG` holds) for every one of them: about a third of a card's HTTP client time
(benchmarks/README.md, Delivery). This sends the same request over the poster's one aiohttp session:
the same URL (`urljoin(base_url, method)`), headers (User-Agent, Bearer token, Content-Type), JSON
body or GET parameters (booleans as "1"/"0", None left out); the answer is slack_sdk's own
`AsyncSlackResponse`, validated the same way, so an error is the same `SlackApiError` (status code,
headers and `error` as Slack sent them). Like slack_sdk's default retry handler, a dropped or refused
connection is tried once more after a short backoff; a 429 is not retried here (the poster makes it
`RetryLater`). Files still go through slack_sdk (`files_upload_v2`), which is not on the hot path.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any
from urllib.parse import urljoin

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.internal_utils import _build_unexpected_body_error_message, get_user_agent

# slack_sdk's AsyncConnectionErrorRetryHandler: these errors, once, after 0.5 s plus up to 1 s of jitter.
RETRIED_ERRORS = (aiohttp.ServerConnectionError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
CONNECTION_RETRIES = 1
_USER_AGENT = get_user_agent()
_urls: dict[tuple[str, str], str] = {}


def _url(base_url: str, method: str) -> str:
    key = (base_url, method)
    url = _urls.get(key)
    if url is None:
        url = _urls[key] = urljoin(base_url, method.lstrip("/"))
    return url


def _form_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: ("1" if v else "0") if isinstance(v, bool) else v for k, v in params.items() if v is not None}


async def api_call(session: aiohttp.ClientSession, base_url: str, token: str, method: str, *,
                   json_body: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> AsyncSlackResponse:
    """POST `json_body` (or GET `params`) to `method`; the validated answer, or `SlackApiError`."""
    url = _url(base_url, method)
    verb = "POST" if json_body is not None else "GET"
    headers = {
        "Content-Type": "application/json;charset=utf-8" if json_body is not None else "application/x-www-form-urlencoded",
        "User-Agent": _USER_AGENT,
        "Authorization": f"Bearer {token}",
    }
    args: dict[str, Any] = {"headers": headers}
    if json_body is not None:
        args["json"] = json_body
    else:
        args["params"] = _form_params(params or {})
    attempt = 0
    while True:
        try:
            async with session.request(verb, url, **args) as res:
                try:
                    data: Any = await res.json()
                except aiohttp.ContentTypeError:
                    data = {}
                except json.JSONDecodeError:
                    try:
                        body = await res.text()
                        message = _build_unexpected_body_error_message(body)
                    except Exception as error:
                        raise SlackApiError(f"Unexpectedly failed to read the response body: {error}", res) from None
                    raise SlackApiError(message, res) from None
                status, response_headers = res.status, res.headers
            break
        except RETRIED_ERRORS:
            if attempt >= CONNECTION_RETRIES:
                raise
            await asyncio.sleep(0.5 * 2 ** attempt + random.random())
            attempt += 1
    return AsyncSlackResponse(client=None, http_verb=verb, api_url=url, req_args=args, data=data,
                              headers=response_headers, status_code=status).validate()
