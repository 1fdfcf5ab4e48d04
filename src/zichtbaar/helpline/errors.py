"""Typed helpline errors: a stable code for clients, a sentence in the user's language."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    "malformed": _("That message could not be read. Please try again."),
    "too_large": _("That message is too long. Please send it in shorter parts."),
    "rate_limited": _("You are sending messages too quickly. Wait a moment and try again."),
    "unknown_type": _("This action is not known."),
    "consent_required": _("Please agree to the chat terms first."),
    "closed": _("The chat is closed right now."),
    "blocked": _("This chat session is temporarily blocked."),
    "not_found": _("This chat was not found or has ended."),
    "not_started": _("Start a chat first."),
    "chat_ended": _("This chat has ended."),
    "forbidden": _("You may not do this."),
    "coding_required": _("Code your previous chat before taking the next one."),
    "limit_reached": _("You have reached your limit of concurrent chats."),
    "not_queued": _("This chat is no longer waiting."),
    "not_available": _("This colleague is not available for a chat."),
    "empty": _("The message is empty."),
    "invalid": _("A value is not valid."),
    "no_consent": _("The visitor's consent to a referral has not been recorded."),
    "coding_incomplete": _("Complete the coding first."),
    "start_token_missing": _("This page is out of date. Reload the page to start a chat."),
    "start_token_invalid": _("The chat could not be started from this page. Reload the page "
                             "and try again."),
    "start_token_expired": _("This page has been open for a long time. Reload the page to "
                             "start a chat."),
    "too_many_chats": _("A chat from this page is already open. Wait a moment, or reload the "
                        "page to start again."),
    "queue_full": _("It is very busy: too many people are waiting right now, so you cannot "
                    "join the queue. Please try again in a few minutes. In acute danger, call "
                    "112. Veilig Thuis helps day and night, free of charge: 0800-2000."),
}


class HelplineError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, MESSAGES["invalid"]))
