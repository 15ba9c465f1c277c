"""Saydo's Block Kit as HTML for the playground, and the Slack payloads its controls produce.

Pure functions, standard library only: `message_html` and `view_html` turn what the builders
in `bot.blocks` return into safe HTML (every piece of text is escaped; links only ever point at
http, https or mailto addresses); `view_state` and `block_action` turn what the browser sent
back into the shapes Slack would send Saydo (`view.state.values`, an `actions[0]` entry).

The contract with the page's JavaScript
---------------------------------------
Blocks
    Every block is wrapped in an element with `class="bk-block bk-<type>"` and
    `data-block-id="<effective block id>"` (`block_id_of`: Slack makes one up when the app
    gives none, and so do we).

Interactive elements (each change or click is a `block_actions` payload)
    They carry `data-action`: JSON `{"block_id", "action_id", "type"}`, with `"value"` for
    buttons that have one. Give it to `block_action(blocks, block_id=..., action_id=...,
    value=...)` with the value read from the page:

    * button: `<button type="button" class="bk-button [bk-primary|bk-danger]">`, or with a
      `url` an `<a class="bk-button" href target="_blank">` (Slack sends the action as well);
      `data-confirm="<text>"` when it asks for confirmation first. The value is ignored.
    * static_select, users_select, overflow: a `<select>`; the chosen `<option>`'s `value`.
      An overflow's first option is a "⋯" placeholder with `value=""`.
    * multi_static_select, multi_users_select: a `<select multiple>`; a JSON list of the
      selected options' values.
    * datepicker, timepicker: `<input type="date">` / `<input type="time">`; its value.
    * checkboxes, radio_buttons: `<input type="checkbox|radio">`s, each with `data-action`,
      in a `<div class="bk-checkboxes">` / `<div class="bk-radio-buttons">`; a JSON list of
      the checked values in that group (checkboxes) or the chosen radio's value.

Form controls of input blocks (in views)
    Each control (each checkbox and radio input too, whose `value` is its option's value)
    carries `data-block-id`, `data-action-id` and `data-kind="<element type>"`, plus a `name`
    (JSON `[block_id, action_id]`) that groups radios. Collect
    `submitted[block_id][action_id]` = the list of values: one for a text, number, date or
    time input or a select, the selected options of a multiple select, the checked inputs of
    a group, an empty list when nothing is chosen; `view_state(view, submitted)` makes
    `view.state.values` of it. Required inputs carry `required`, so the browser asks for them
    as Slack does. An input block with `dispatch_action: true` also gives its control
    `data-action`, as above.

Views
    A modal is a `<form class="bk-modal">`: `<h2 class="bk-modal-title">`, the blocks, then
    `<button type="button" class="bk-close">` and (when the view has a submit label)
    `<button type="submit" class="bk-submit">`. Field errors (`response_action: errors`) show
    under their input block in `<div class="bk-error">`. A Home tab is a `<div class="bk-home">`
    of its blocks; a message a `<div class="bk-message">`.

Files
    A message's shared files (Slack's external upload, kept by the stand-in) follow its text:
    an image as `<figure class="bk-file"><img src="/files/<file id>" alt="<alt text>">` with
    its title as the caption, any other file as a link to the same address; the page's server
    answers there with the uploaded bytes.

Emoji shortcodes in the small `EMOJI` table (those Saydo uses and a few common ones) become
emoji; any other `:shortcode:` stays as it was written.
"""

from __future__ import annotations

import html
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

Block = Mapping[str, Any]
TextObject = Mapping[str, Any]

SAFE_URL_PREFIXES = ("http://", "https://", "mailto:")
OVERFLOW_LABEL = "⋯"
FILES_PATH = "/files/"  # where the page's server serves an uploaded file: FILES_PATH + its id
DEFAULT_CLOSE = "Cancel"
FALLBACK_LENGTH = 150
EMOJI = {
    "+1": "👍",
    "-1": "👎",
    "alarm_clock": "⏰",
    "bell": "🔔",
    "bulb": "💡",
    "calendar": "📅",
    "clap": "👏",
    "coffee": "☕",
    "eyes": "👀",
    "fire": "🔥",
    "heart": "❤️",
    "hourglass_flowing_sand": "⏳",
    "memo": "📝",
    "pray": "🙏",
    "raised_hands": "🙌",
    "rocket": "🚀",
    "slightly_smiling_face": "🙂",
    "smile": "😄",
    "sparkles": "✨",
    "star": "⭐",
    "tada": "🎉",
    "thinking_face": "🤔",
    "thumbsup": "👍",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
}


# --- mrkdwn --------------------------------------------------------------------------------

_TOKEN = re.compile(r"<([^<>]+)>")  # links, mentions, channels and <!here>-style specials
_MARKER = re.compile("\ue000(\\d+)\ue001")  # an HTML fragment set aside (see _Stash)
_PRE = re.compile(r"```\n?(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "del"),
)
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
_QUOTED = re.compile(r"^&gt; ?")  # a quoted line, once escaped (Slack sends `>` and `&gt;`)
_NO_MARKERS = str.maketrans("", "", "\ue000\ue001")


def mrkdwn_to_html(text: str, *, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as safe HTML. `names` maps user and channel ids to what mentions show.

    Slack's own escapes (`&amp;`, `&lt;`, `&gt;`) show as `&`, `<` and `>`; a quote may start
    with `>` or `> `, as in Slack; a link that isn't http, https or mailto shows as its text.
    """
    stash = _Stash()
    escaped = "".join(
        stash.put(_token_html(piece, names)) if odd else _escape(_unescape_slack(piece))
        for odd, piece in _alternating(_TOKEN.split(text))
    )
    escaped = _PRE.sub(lambda m: stash.put(f"<pre>{m[1]}</pre>"), escaped)
    escaped = _CODE.sub(lambda m: stash.put(f"<code>{m[1]}</code>"), escaped)
    for pattern, tag in _STYLES:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return stash.restore(_lines_html(_emojify(escaped)))


def plain_to_html(text_object: TextObject | None, *, names: Mapping[str, str]) -> str:
    """A Block Kit text object as HTML: plain_text escaped (line breaks kept), mrkdwn rendered."""
    if not text_object:
        return ""
    text = str(text_object.get("text") or "")
    if text_object.get("type") == "mrkdwn":
        return mrkdwn_to_html(text, names=names)
    return _emojify(html.escape(text)).replace("\n", "<br>")


def fallback_text(message: Mapping[str, Any], *, names: Mapping[str, str] | None = None) -> str:
    """A message as one short line of plain text (its `text`, else its first header or
    section), for notifications and previews; mentions use `names` when given."""
    text = message.get("text") or next(
        (
            block.get("text")
            for block in message.get("blocks") or ()
            if block.get("type") in ("header", "section") and block.get("text")
        ),
        "",
    )
    if isinstance(text, Mapping):
        line = _plain_text(text, names or {})
    else:
        line = _mrkdwn_to_plain(str(text), names or {})
    return _shorten(" ".join(line.split()), FALLBACK_LENGTH)


class _Stash:
    """HTML fragments set aside as private-use markers while the text around them is
    formatted, so formatting never reaches inside a link, a mention or code."""

    def __init__(self) -> None:
        self._fragments: list[str] = []

    def put(self, fragment: str) -> str:
        self._fragments.append(self.restore(fragment))
        return f"\ue000{len(self._fragments) - 1}\ue001"

    def restore(self, text: str) -> str:
        return _MARKER.sub(lambda m: self._fragments[int(m[1])], text)


def _alternating(pieces: list[str]) -> Iterator[tuple[bool, str]]:
    """`re.split` pieces with whether each is a captured token (every other one)."""
    return ((index % 2 == 1, piece) for index, piece in enumerate(pieces))


def _unescape_slack(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token_html(token: str, names: Mapping[str, str]) -> str:
    """`<@U1>`, `<#C1|name>`, `<!here>`, `<https://x|label>` as HTML."""
    target, _, label = token.partition("|")
    label = _unescape_slack(label)
    if target.startswith("@"):
        return _span("mention", "@" + (names.get(target[1:]) or label or target[1:]))
    if target.startswith("#"):
        return _span("channel", "#" + (names.get(target[1:]) or label or target[1:]))
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        if special in ("here", "channel", "everyone"):
            return _span("mention", f"@{special}")
        if special == "subteam":
            return _span("mention", label or "@group")
        return _escape(label or special)  # a date's fallback text, or anything newer
    return _link_html(_unescape_slack(target), label)


def _link_html(href: str, text: str, css_class: str | None = None) -> str:
    """A link opening in a new tab, or just its text when it isn't http, https or mailto."""
    shown = _escape(text or href)
    if not _is_safe_url(href):
        return shown
    attrs = {"class": css_class, "href": href, "target": "_blank", "rel": "noopener"}
    return f"<a{_attrs(attrs)}>{shown}</a>"


def _token_plain(token: str, names: Mapping[str, str]) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return "@" + (names.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (names.get(target[1:]) or label or target[1:])
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        return f"@{special}" if special in ("here", "channel", "everyone") else label or special
    return label or target


def _mrkdwn_to_plain(text: str, names: Mapping[str, str]) -> str:
    pieces = _TOKEN.split(text)
    plain = "".join(
        _token_plain(piece, names) if odd else piece for odd, piece in _alternating(pieces)
    )
    plain = _PRE.sub(r"\1", plain)
    plain = _CODE.sub(r"\1", plain)
    for pattern, _tag in _STYLES:
        plain = pattern.sub(r"\1", plain)
    plain = re.sub(r"^(?:>|&gt;) ?", "", plain, flags=re.MULTILINE)
    return _emojify(_unescape_slack(plain))


def _plain_text(text_object: TextObject | None, names: Mapping[str, str]) -> str:
    """A text object as plain text (for attributes and `<option>`s, which hold no markup)."""
    if not text_object:
        return ""
    text = str(text_object.get("text") or "")
    if text_object.get("type") == "mrkdwn":
        return _mrkdwn_to_plain(text, names)
    return _emojify(text)


def _emojify(text: str) -> str:
    return _SHORTCODE.sub(lambda m: EMOJI.get(m[1], m[0]), text)


def _lines_html(text: str) -> str:
    """Line breaks as `<br>`; runs of quoted lines as one `<blockquote>`."""
    parts = []
    lines = text.split("\n")
    for quoted, group in itertools.groupby(lines, key=lambda line: bool(_QUOTED.match(line))):
        if quoted:
            body = "<br>".join(_QUOTED.sub("", line) for line in group)
            parts.append(f"<blockquote>{body}</blockquote>")
        else:
            parts.append("<br>".join(group))
    return "".join(parts)


def _is_safe_url(url: str) -> bool:
    return url.lower().startswith(SAFE_URL_PREFIXES)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- HTML helpers --------------------------------------------------------------------------


def _attrs(attributes: Mapping[str, object]) -> str:
    """` name="value"` for each attribute, escaped; True is a bare attribute, None and False
    leave it out."""
    parts = []
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        parts.append(f" {name}" if value is True else f' {name}="{html.escape(str(value))}"')
    return "".join(parts)


def _escape(text: str) -> str:
    """HTML-escaped, and without the characters that mark fragments set aside (`_Stash`)."""
    return html.escape(text.translate(_NO_MARKERS))


def _span(css_class: str, text: str) -> str:
    return f'<span class="{css_class}">{_escape(text)}</span>'


def _note(text: str) -> str:
    return f'<span class="bk-unsupported">{html.escape(text)}</span>'


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- ids -----------------------------------------------------------------------------------


def block_id_of(block: Mapping[str, Any], index: int) -> str:
    """The block's `block_id`, or the one Slack would make up for the block at `index`."""
    return str(block.get("block_id") or f"b{index}")


def _action_id_of(element: Mapping[str, Any], position: int) -> str:
    """The element's `action_id`, or one made up for the element at `position` in its block."""
    return str(element.get("action_id") or f"a{position}")


def _elements_of(block: Block) -> list[Mapping[str, Any]]:
    """The elements of a block that send block actions."""
    match block.get("type"):
        case "actions":
            return list(block.get("elements") or ())
        case "section":
            return [block["accessory"]] if block.get("accessory") else []
        case "input":
            return [block.get("element") or {}] if block.get("dispatch_action") else []
    return []


# --- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """What rendering needs besides the blocks themselves."""

    names: Mapping[str, str]
    users: Sequence[tuple[str, str]]  # (user id, name): the choices of user selects
    errors: Mapping[str, str]  # block id -> the error shown under that input

    def text(self, text_object: TextObject | None) -> str:
        return plain_to_html(text_object, names=self.names)

    def plain(self, text_object: TextObject | None) -> str:
        return _plain_text(text_object, self.names)


def message_html(message: Mapping[str, Any], *, names: Mapping[str, str]) -> str:
    """A message as Slack stores it: its blocks, or its `text` as mrkdwn when it has none.
    User selects in a message offer the user ids (U…, W…) found in `names`."""
    users = sorted(
        ((key, name) for key, name in names.items() if key[:1] in ("U", "W")),
        key=lambda user: user[1].casefold(),
    )
    page = _Page(names, users, {})
    blocks = message.get("blocks")
    if blocks:
        body = _blocks_html(blocks, page)
    else:
        text = mrkdwn_to_html(message.get("text") or "", names=names)
        body = f'<div class="bk-text">{text}</div>'
    body += "".join(_file_html(shared) for shared in message.get("files") or ())
    return f'<div class="bk-message">{body}</div>'


def _file_html(shared: Mapping[str, Any]) -> str:
    """A shared file: an image inline with its alt text and title, anything else a link."""
    src = FILES_PATH + quote(str(shared.get("id") or ""), safe="")
    title = str(shared.get("title") or shared.get("name") or "file")
    kind, _ = mimetypes.guess_type(str(shared.get("name") or ""))
    if not (kind or "").startswith("image/"):
        link = _attrs({"class": "bk-file-link", "href": src, "target": "_blank", "rel": "noopener"})
        return f"<a{link}>{_escape(title)}</a>"
    image = _attrs({"src": src, "alt": str(shared.get("alt_txt") or title)})
    return f'<figure class="bk-file"><img{image}><figcaption>{_escape(title)}</figcaption></figure>'


def view_html(
    view: Mapping[str, Any],
    *,
    names: Mapping[str, str],
    users: Sequence[tuple[str, str]],
    errors: Mapping[str, str] | None = None,
) -> str:
    """A modal as a `<form class="bk-modal">`, or a Home tab as a `<div class="bk-home">`.
    `users` are the choices of user selects; `errors` maps input block ids to messages."""
    errors = errors or {}
    page = _Page(names, users, errors)
    blocks = view.get("blocks") or []
    body = _blocks_html(blocks, page)
    if view.get("type") != "modal":
        return f'<div class="bk-home">{body}</div>'
    inputs = {block_id_of(b, i) for i, b in enumerate(blocks) if b.get("type") == "input"}
    stray = "".join(  # an error for no input of this view: Slack would refuse it, so show it
        f'<div class="bk-error">{html.escape(f"{block_id}: {message}")}</div>'
        for block_id, message in errors.items()
        if block_id not in inputs
    )
    close = page.text(view.get("close")) or DEFAULT_CLOSE
    buttons = f'<button type="button" class="bk-close">{close}</button>'
    if view.get("submit"):
        buttons += f'<button type="submit" class="bk-submit">{page.text(view["submit"])}</button>'
    return (
        f'<form class="bk-modal"><h2 class="bk-modal-title">{page.text(view.get("title"))}</h2>'
        f'{stray}<div class="bk-blocks">{body}</div>'
        f'<div class="bk-modal-buttons">{buttons}</div></form>'
    )


def _blocks_html(blocks: Sequence[Block], page: _Page) -> str:
    return "".join(_block_html(block, index, page) for index, block in enumerate(blocks))


def _block_html(block: Block, index: int, page: _Page) -> str:
    block_type = str(block.get("type") or "")
    block_id = block_id_of(block, index)
    render = _BLOCKS.get(block_type)
    body = render(block, block_id, page) if render else _note(f"[unsupported block: {block_type}]")
    css = "bk-block bk-" + (re.sub(r"[^\w-]", "", block_type) or "unknown")
    return f"<div{_attrs({'class': css, 'data-block-id': block_id})}>{body}</div>"


def _header(block: Block, block_id: str, page: _Page) -> str:
    return f'<h3 class="bk-header-text">{page.text(block.get("text"))}</h3>'


def _section(block: Block, block_id: str, page: _Page) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="bk-text">{page.text(block["text"])}</div>')
    if block.get("fields"):
        fields = "".join(f'<div class="bk-field">{page.text(f)}</div>' for f in block["fields"])
        parts.append(f'<div class="bk-fields">{fields}</div>')
    if block.get("accessory"):
        accessory = _interactive(block["accessory"], block_id, 0, page)
        parts.append(f'<div class="bk-accessory">{accessory}</div>')
    return "".join(parts)


def _context(block: Block, block_id: str, page: _Page) -> str:
    items = []
    for element in block.get("elements") or ():
        if element.get("type") == "image":
            items.append(_image_link(element, page))
        else:
            items.append(f'<span class="bk-context-item">{page.text(element)}</span>')
    return "".join(items)


def _divider(block: Block, block_id: str, page: _Page) -> str:
    return "<hr>"


def _actions(block: Block, block_id: str, page: _Page) -> str:
    elements = block.get("elements") or ()
    return "".join(_interactive(e, block_id, position, page) for position, e in enumerate(elements))


def _image(block: Block, block_id: str, page: _Page) -> str:
    return _image_link(block, page)


def _image_link(image: Mapping[str, Any], page: _Page) -> str:
    """An image as a link to it, named by its title or its alt text."""
    label = page.plain(image.get("title")) or str(image.get("alt_text") or "image")
    return _link_html(str(image.get("image_url") or ""), label, "bk-image-link")


def _rich_text(block: Block, block_id: str, page: _Page) -> str:
    return "".join(_rich_html(element, page) for element in block.get("elements") or ())


_RICH_CONTAINERS = {
    "rich_text_section": "div",
    "rich_text_quote": "blockquote",
    "rich_text_preformatted": "pre",
}
_RICH_STYLES = (("bold", "strong"), ("italic", "em"), ("strike", "del"), ("code", "code"))


def _rich_html(element: Mapping[str, Any], page: _Page) -> str:
    """One rich_text element, best effort: its text with styles, links and mentions."""
    kind = element.get("type")
    children = element.get("elements") or ()
    if kind in _RICH_CONTAINERS:
        tag = _RICH_CONTAINERS[kind]
        return f"<{tag}>{''.join(_rich_html(child, page) for child in children)}</{tag}>"
    if kind == "rich_text_list":
        tag = "ol" if element.get("style") == "ordered" else "ul"
        items = "".join(f"<li>{_rich_html(child, page)}</li>" for child in children)
        return f"<{tag}>{items}</{tag}>"
    match kind:
        case "text":
            shown = html.escape(str(element.get("text") or "")).replace("\n", "<br>")
        case "link":
            shown = _link_html(str(element.get("url") or ""), str(element.get("text") or ""))
        case "user":
            user_id = str(element.get("user_id"))
            shown = _span("mention", "@" + page.names.get(user_id, user_id))
        case "channel":
            channel_id = str(element.get("channel_id"))
            shown = _span("channel", "#" + page.names.get(channel_id, channel_id))
        case "broadcast":
            shown = _span("mention", f"@{element.get('range')}")
        case "emoji":
            shown = html.escape(EMOJI.get(str(element.get("name")), f":{element.get('name')}:"))
        case _:
            shown = html.escape(str(element.get("text") or element.get("fallback") or ""))
    style = element.get("style") or {}
    for key, tag in _RICH_STYLES:
        if style.get(key):
            shown = f"<{tag}>{shown}</{tag}>"
    return shown


@dataclass(frozen=True)
class _Control:
    """Where an element lives, and so which data attributes tell the JavaScript about it."""

    block_id: str
    action_id: str
    kind: str
    sends_actions: bool  # changes are block actions: `data-action`
    in_form: bool  # a field of a view's state: `data-block-id`, `data-action-id`, `data-kind`
    required: bool = False

    def action_attrs(self, **extra: str) -> dict[str, str]:
        if not self.sends_actions:
            return {}
        action = {"block_id": self.block_id, "action_id": self.action_id, "type": self.kind}
        return {"data-action": _json({**action, **extra})}

    def field_attrs(self) -> dict[str, object]:
        attrs: dict[str, object] = {"name": _json([self.block_id, self.action_id])}
        if self.in_form:
            attrs |= {
                "data-block-id": self.block_id,
                "data-action-id": self.action_id,
                "data-kind": self.kind,
            }
        return attrs

    @property
    def dom_id(self) -> str:
        return re.sub(r"\s", "_", f"bk-{self.block_id}-{self.action_id}")

    def attrs(self, css_class: str) -> dict[str, object]:
        """The attributes of a single control (not a group of checkboxes or radios)."""
        return {
            "class": css_class,
            "id": self.dom_id if self.in_form else None,
            **self.field_attrs(),
            **self.action_attrs(),
            "required": self.required,
        }


def _interactive(element: Mapping[str, Any], block_id: str, position: int, page: _Page) -> str:
    """An element of an actions block or a section's accessory."""
    kind = str(element.get("type") or "")
    if kind == "image":
        return _image_link(element, page)
    action_id = _action_id_of(element, position)
    control = _Control(block_id, action_id, kind, sends_actions=True, in_form=False)
    if kind == "button":
        return _button(element, control, page)
    if kind == "overflow":
        placeholder = f'<option value="" disabled selected>{OVERFLOW_LABEL}</option>'
        options = _options_html(element.get("options") or (), set(), page)
        return f"<select{_attrs(control.attrs('bk-overflow'))}>{placeholder}{options}</select>"
    return _control_html(element, control, page)


def _button(element: Mapping[str, Any], control: _Control, page: _Page) -> str:
    value = {"value": str(element["value"])} if "value" in element else {}
    style = element.get("style")
    attrs = {
        "class": "bk-button" + (f" bk-{style}" if style in ("primary", "danger") else ""),
        **control.action_attrs(**value),
        "data-confirm": _confirm_text(element.get("confirm"), page),
    }
    label = page.text(element.get("text"))
    url = str(element.get("url") or "")
    if _is_safe_url(url):
        link = {"href": url, "target": "_blank", "rel": "noopener"}
        return f"<a{_attrs(attrs | link)}>{label}</a>"
    return f'<button type="button"{_attrs(attrs)}>{label}</button>'


def _confirm_text(confirm: Mapping[str, Any] | None, page: _Page) -> str | None:
    if not confirm:
        return None
    return page.plain(confirm.get("text")) or "Are you sure?"


def _input(block: Block, block_id: str, page: _Page) -> str:
    element = block.get("element") or {}
    optional = bool(block.get("optional"))
    control = _Control(
        block_id,
        _action_id_of(element, 0),
        str(element.get("type") or ""),
        sends_actions=bool(block.get("dispatch_action")),
        in_form=True,
        required=not optional,
    )
    label = page.text(block.get("label"))
    if optional:
        label += ' <span class="bk-optional">(optional)</span>'
    labelled = None if control.kind in ("checkboxes", "radio_buttons") else control.dom_id
    parts = [
        f"<label{_attrs({'class': 'bk-label', 'for': labelled})}>{label}</label>",
        _control_html(element, control, page),
    ]
    if block.get("hint"):
        parts.append(f'<div class="bk-hint">{page.text(block["hint"])}</div>')
    if page.errors.get(block_id):
        parts.append(f'<div class="bk-error">{html.escape(page.errors[block_id])}</div>')
    return "".join(parts)


def _control_html(element: Mapping[str, Any], control: _Control, page: _Page) -> str:
    """A form control for an element (not buttons or overflows)."""
    placeholder = page.plain(element.get("placeholder")) or None
    match control.kind:
        case "plain_text_input":
            attrs = control.attrs("bk-control") | {
                "placeholder": placeholder,
                "maxlength": element.get("max_length"),
                "minlength": element.get("min_length"),
            }
            initial = str(element.get("initial_value") or "")
            if element.get("multiline"):
                # The parser drops a newline right after <textarea>, so the value's own stays.
                return f"<textarea{_attrs(attrs)}>\n{html.escape(initial)}</textarea>"
            return f'<input type="text"{_attrs(attrs | {"value": initial})}>'
        case "number_input":
            attrs = control.attrs("bk-control") | {
                "step": "any" if element.get("is_decimal_allowed") else "1",
                "min": element.get("min_value"),
                "max": element.get("max_value"),
                "value": element.get("initial_value"),
                "placeholder": placeholder,
            }
            return f'<input type="number"{_attrs(attrs)}>'
        case "datepicker":
            attrs = control.attrs("bk-control") | {"value": element.get("initial_date")}
            return f'<input type="date"{_attrs(attrs)}>'
        case "timepicker":
            attrs = control.attrs("bk-control") | {"value": element.get("initial_time")}
            return f'<input type="time"{_attrs(attrs)}>'
        case "static_select" | "multi_static_select":
            multiple = control.kind == "multi_static_select"
            initial = (
                element.get("initial_options") if multiple else [element.get("initial_option")]
            )
            chosen = {str(o.get("value")) for o in initial or () if o}
            options = _options_html(element.get("options") or (), chosen, page)
            for group in element.get("option_groups") or ():
                grouped = _options_html(group.get("options") or (), chosen, page)
                label = _attrs({"label": page.plain(group.get("label"))})
                options += f"<optgroup{label}>{grouped}</optgroup>"
            return _select(control, options, chosen, placeholder, multiple=multiple)
        case "users_select" | "multi_users_select":
            multiple = control.kind == "multi_users_select"
            initial = element.get("initial_users") if multiple else [element.get("initial_user")]
            chosen = {str(user) for user in initial or () if user}
            known = [user_id for user_id, _name in page.users]
            unknown = sorted(chosen.difference(known))  # chosen, yet not in the directory
            users = [
                *page.users,
                *((user_id, page.names.get(user_id, user_id)) for user_id in unknown),
            ]
            options = "".join(
                f"<option{_attrs({'value': user_id, 'selected': user_id in chosen})}>"
                f"{html.escape(name)}</option>"
                for user_id, name in users
            )
            return _select(control, options, chosen, placeholder, multiple=multiple)
        case "checkboxes" | "radio_buttons":
            return _choices(element, control, page)
    return _note(f"[unsupported element: {control.kind}]")


def _options_html(options: Sequence[Mapping[str, Any]], chosen: set[str], page: _Page) -> str:
    return "".join(
        f"<option{_attrs({'value': o.get('value'), 'selected': str(o.get('value')) in chosen})}>"
        f"{html.escape(page.plain(o.get('text')))}</option>"
        for o in options
    )


def _select(
    control: _Control, options: str, chosen: set[str], placeholder: str | None, *, multiple: bool
) -> str:
    """A `<select>`; a single one starts with an empty option showing the placeholder (which
    can't be chosen back once an action has been sent)."""
    attrs = control.attrs("bk-select") | {"multiple": multiple}
    if not multiple:
        empty = {"value": "", "disabled": control.sends_actions, "selected": not chosen}
        options = f"<option{_attrs(empty)}>{html.escape(placeholder or '')}</option>{options}"
    return f"<select{_attrs(attrs)}>{options}</select>"


def _choices(element: Mapping[str, Any], control: _Control, page: _Page) -> str:
    """Checkboxes or radio buttons: one input per option, with its description."""
    radio = control.kind == "radio_buttons"
    initial = [element.get("initial_option")] if radio else element.get("initial_options")
    chosen = {str(o.get("value")) for o in initial or () if o}
    items = []
    for option in element.get("options") or ():
        value = str(option.get("value") or "")
        attrs = {
            "type": "radio" if radio else "checkbox",
            **control.field_attrs(),
            **control.action_attrs(),
            "value": value,
            "checked": value in chosen,
            "required": radio and control.required,
        }
        description = ""
        if option.get("description"):
            text = page.text(option["description"])
            description = f'<span class="bk-option-description">{text}</span>'
        items.append(
            f'<label class="bk-option"><input{_attrs(attrs)}> '
            f'<span class="bk-option-text">{page.text(option.get("text"))}</span>'
            f"{description}</label>"
        )
    css = "bk-radio-buttons" if radio else "bk-checkboxes"
    return f'<div class="{css}">{"".join(items)}</div>'


_BLOCKS = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "rich_text": _rich_text,
    "input": _input,
}


# --- what the browser sends back -----------------------------------------------------------


def view_state(
    view: Mapping[str, Any], submitted: Mapping[str, Mapping[str, list[str]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's `view.state.values` for a view, from `submitted[block_id][action_id]`: the
    values the browser's controls had (empty when nothing was chosen). Every input block is
    there; what the browser did not send is empty, as Slack sends null for an empty input."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for index, block in enumerate(view.get("blocks") or ()):
        if block.get("type") != "input":
            continue
        block_id = block_id_of(block, index)
        element = block.get("element") or {}
        action_id = _action_id_of(element, 0)
        raw = (submitted.get(block_id) or {}).get(action_id) or []
        values[block_id] = {action_id: _state_of(element, block_id, [str(v) for v in raw])}
    return values


def _state_of(element: Mapping[str, Any], block_id: str, raw: list[str]) -> dict[str, Any]:
    kind = element.get("type")
    chosen = [value for value in raw if value]
    first = chosen[0] if chosen else None
    match kind:
        case "plain_text_input" | "number_input":
            # Form encoding sends a textarea's line breaks as CRLF; Slack sends "\n".
            return {"type": kind, "value": first.replace("\r\n", "\n") if first else None}
        case "datepicker":
            return {"type": kind, "selected_date": first}
        case "timepicker":
            return {"type": kind, "selected_time": first}
        case "users_select":
            return {"type": kind, "selected_user": first}
        case "multi_users_select":
            return {"type": kind, "selected_users": chosen}
        case "static_select" | "radio_buttons":
            found = _options_with(element, chosen[:1])
            return {"type": kind, "selected_option": found[0] if found else None}
        case "multi_static_select" | "checkboxes":
            return {"type": kind, "selected_options": _options_with(element, chosen)}
    raise ValueError(f"input block {block_id!r}: the playground can't read {kind!r} elements")


def _all_options(element: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from element.get("options") or ()
    for group in element.get("option_groups") or ():
        yield from group.get("options") or ()


def _options_with(element: Mapping[str, Any], values: Sequence[str]) -> list[dict[str, Any]]:
    """The element's options whose values are in `values`, in the element's order."""
    wanted = set(values)
    return [dict(option) for option in _all_options(element) if option.get("value") in wanted]


def block_action(
    container_blocks: Sequence[Block], *, block_id: str, action_id: str, value: str | None
) -> dict[str, Any]:
    """Slack's `actions[0]` for a click or change on an element of these blocks. `value` is
    what the page read (see the module docstring); buttons send their own value.

    Raises LookupError when no such element (or chosen option) exists, ValueError when the
    value can't be read or the element sends no actions.
    """
    element = _find_element(container_blocks, block_id, action_id)
    kind = element.get("type")
    action: dict[str, Any] = {"type": kind, "block_id": block_id, "action_id": action_id}
    match kind:
        case "button":
            action["text"] = element.get("text")
            action |= {key: element[key] for key in ("value", "style") if key in element}
        case "static_select" | "overflow" | "radio_buttons":
            found = _options_with(element, [value] if value else [])
            if not found:
                raise LookupError(f"{action_id!r} in block {block_id!r} has no option {value!r}")
            action["selected_option"] = found[0]
        case "multi_static_select" | "checkboxes":
            action["selected_options"] = _options_with(element, _json_list(value))
        case "users_select":
            action["selected_user"] = value
        case "multi_users_select":
            action["selected_users"] = _json_list(value)
        case "datepicker":
            action["selected_date"] = value
        case "timepicker":
            action["selected_time"] = value
        case "plain_text_input" | "number_input":
            action["value"] = value
        case _:
            raise ValueError(f"{action_id!r} in block {block_id!r}: {kind!r} sends no actions")
    action["action_ts"] = f"{time.time():.6f}"
    return action


def _find_element(blocks: Sequence[Block], block_id: str, action_id: str) -> Mapping[str, Any]:
    for index, block in enumerate(blocks):
        if block_id_of(block, index) != block_id:
            continue
        for position, element in enumerate(_elements_of(block)):
            if _action_id_of(element, position) == action_id:
                return element
        raise LookupError(f"block {block_id!r} has no interactive element {action_id!r}")
    raise LookupError(f"there is no block {block_id!r}")


def _json_list(value: str | None) -> list[str]:
    """A multi-valued element's value: a JSON list of strings."""
    data = json.loads(value or "[]")
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise ValueError(f"expected a JSON list of strings, got {value!r}")
    return data
