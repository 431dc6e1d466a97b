"""Errors that carry text fit for a caller or a user (SPEC §2: every error answer is JSON)."""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error answer: `{"error": code, "detail": sentence, "field": path}`."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None, *,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})  # e.g. Retry-After of a 429

    def body(self) -> dict[str, str]:
        body = {"error": self.code, "detail": self.detail}
        if self.field:
            body["field"] = self.field
        return body


def malformed(detail: str) -> ApiError:
    return ApiError(400, "malformed", detail)


def invalid(field: str, detail: str) -> ApiError:
    return ApiError(422, "invalid_field", detail, field)


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "bad_signature", detail)


class UserError(Exception):
    """Something a Slack or Teams user did that Baton refuses; the message is shown to them as is.

    `field` names the form field at fault (a form shows the message beside it); never derive it from
    the wording."""

    def __init__(self, text: str, *, field: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.field = field
