"""Template tools (templates_*) and the customerio://templates/{template_id} resource."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from tools.mcp_support import (
    Cursor,
    EngineResolver,
    Limit,
    OptionalText,
    guarded,
    guarded_resource,
    tool_hints,
)
from tools.templates.api import UNSET, TemplatesOps
from tools.templates.models import (
    Piece,
    PieceDeleted,
    PieceSaved,
    PiecesPage,
    Preview,
    Template,
    TemplateDeleted,
    TemplateSaved,
    TemplatesPage,
)

TemplateId = Annotated[str, Field(description="The template's id: 1-64 letters, digits, _ or -")]
SnippetId = Annotated[str, Field(description="The snippet's id (used as {% render 'id' %})")]
LayoutId = Annotated[str, Field(description="The layout's id: 1-64 letters, digits, _ or -")]
Text = Annotated[OptionalText, Field(description="Liquid template (see the tool description)")]
Body = Annotated[OptionalText, Field(
    description="Message body (Liquid): HTML for email and in_app (inserted values are "
                "HTML-escaped), plain text for sms, push and webhook")]
Map = Annotated[dict[str, str] | None, Field(
    description="Object of name -> Liquid template (push data, webhook headers)")]

FILTERS = """\
Liquid: {{ customer.first_name }}, {% if %}, {% for %}, {% assign %}, {% capture %},
{% render 'snippet_id' %} (snippets: templates_snippet_put). Variables: customer (the
person's attributes plus id), event (triggering event data), trigger (API trigger data),
now. Liquid's standard filters plus: default: 'x'; date: '%B %-d, %Y' [, 'Europe/Paris']
(strftime; input unix seconds, ISO text or 'now'); timezone: 'America/New_York';
format_number [: 'de-DE', decimals: 2]; currency [: 'en-US' | 'EUR', code: 'EUR'];
url_encode; json; pluralize: 'item' [, 'items']. HTML fields auto-escape inserted values
(opt out per value with | safe); text fields do not. Renders are bounded (10,000 loop
iterations, 1 MB per field, 250 ms per message)."""

CHANNEL_FIELDS = """\
Fields by channel: email subject*, body* (HTML), text_body (derived from the HTML when
absent), from, reply_to, preheader, layout_id; sms body*; push title, body*, link,
image_url, data; in_app title, body* (HTML), link; webhook url*, method (GET, POST, PUT,
PATCH, DELETE), headers, body. * = required."""


def _fields(subject: str | None, body: str | None, text_body: str | None, sender: str | None,
            reply_to: str | None, preheader: str | None, title: str | None, link: str | None,
            image_url: str | None, data: dict[str, str] | None, url: str | None,
            method: str | None, headers: dict[str, str] | None) -> dict[str, Any]:
    given = {"subject": subject, "body": body, "text_body": text_body, "from": sender,
             "reply_to": reply_to, "preheader": preheader, "title": title, "link": link,
             "image_url": image_url, "data": data, "url": url, "method": method,
             "headers": headers}
    return {name: value for name, value in given.items() if value is not None}


def register(server: MCPServer[Any], engine_for: EngineResolver[TemplatesOps]) -> None:
    """Add the template tools and resource to `server`."""
    _register_templates(server, engine_for)
    _register_pieces(server, engine_for)


def _register_templates(server: MCPServer[Any], engine_for: EngineResolver[TemplatesOps]) -> None:
    @server.tool(annotations=tool_hints(title="Create a template"),
                 description="Create a message template. Every field is parsed now: a syntax "
                 "error names the field, line and column. Returns the variables used and "
                 "warnings (e.g. customer attributes no person has).\n" + CHANNEL_FIELDS + "\n"
                 + FILTERS)
    async def templates_create(
        template_id: TemplateId,
        channel: Annotated[Literal["email", "sms", "push", "in_app", "webhook"], Field(
            description="The channel this message goes out on")],
        ctx: Context[Any, Any],
        subject: Text = None, body: Body = None, text_body: Text = None,
        from_: Annotated[OptionalText, Field(validation_alias="from",
                                           description="Email sender (Liquid)")] = None,
        reply_to: Text = None, preheader: Text = None, title: Text = None, link: Text = None,
        image_url: Text = None, data: Map = None, url: Text = None,
        method: Annotated[OptionalText, Field(description="Webhook HTTP method")] = None,
        headers: Map = None,
        layout_id: Annotated[OptionalText, Field(
            description="Email layout wrapping the body (templates_layout_put)")] = None,
    ) -> TemplateSaved:
        fields = _fields(subject, body, text_body, from_, reply_to, preheader, title, link,
                         image_url, data, url, method, headers)
        return await guarded(engine_for(ctx).templates_create(template_id, channel, fields,
                                                              layout_id=layout_id))

    @server.tool(annotations=tool_hints(idempotent=True, title="Update a template"),
                 description="Change fields of a template (others stay; an empty string "
                 "removes an optional field) and/or its layout (empty string: no layout). "
                 "Everything is parsed again; the template's version goes up by one.\n"
                 + CHANNEL_FIELDS)
    async def templates_update(
        template_id: TemplateId, ctx: Context[Any, Any],
        subject: Text = None, body: Body = None, text_body: Text = None,
        from_: Annotated[OptionalText, Field(validation_alias="from",
                                           description="Email sender (Liquid)")] = None,
        reply_to: Text = None, preheader: Text = None, title: Text = None, link: Text = None,
        image_url: Text = None, data: Map = None, url: Text = None,
        method: Annotated[OptionalText, Field(description="Webhook HTTP method")] = None,
        headers: Map = None,
        layout_id: Annotated[OptionalText, Field(
            description="New layout id; empty string removes the layout")] = None,
    ) -> TemplateSaved:
        fields = _fields(subject, body, text_body, from_, reply_to, preheader, title, link,
                         image_url, data, url, method, headers)
        layout = UNSET if layout_id is None else (layout_id or None)
        return await guarded(engine_for(ctx).templates_update(
            template_id, fields or None, layout_id=layout))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a template"))
    async def templates_get(template_id: TemplateId, ctx: Context[Any, Any]) -> Template:
        """A template's fields (Liquid sources), layout, snippets and variables."""
        return await guarded(engine_for(ctx).templates_get(template_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="List templates"))
    async def templates_list(
        ctx: Context[Any, Any],
        channel: Annotated[Literal["email", "sms", "push", "in_app", "webhook"] | None, Field(
            description="Only templates of this channel")] = None,
        limit: Limit = 50, cursor: Cursor = None,
    ) -> TemplatesPage:
        """Templates in id order, a page at a time."""
        return await guarded(engine_for(ctx).templates_list(channel, limit, cursor))

    @server.tool(annotations=tool_hints(destructive=True, title="Delete a template"))
    async def templates_delete(template_id: TemplateId, ctx: Context[Any, Any]) -> TemplateDeleted:
        """Delete a template."""
        return await guarded(engine_for(ctx).templates_delete(template_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Preview a template"))
    async def templates_preview(
        template_id: TemplateId, ctx: Context[Any, Any],
        user_id: Annotated[OptionalText, Field(
            description="Render with this person's stored profile as customer")] = None,
        context: Annotated[dict[str, Any] | None, Field(
            description="Extra render data, e.g. {\"event\": {...}, \"trigger\": {...}}; "
                        "context.customer overlays the stored profile")] = None,
    ) -> Preview:
        """Render every field of a template for a person and/or a given context. A render
        error names the field, line and column; warnings list variables that rendered
        empty."""
        return await guarded(engine_for(ctx).templates_preview(template_id, user_id, context))

    @server.resource("customerio://templates/{template_id}", name="template",
                     mime_type="application/json",
                     description="A template's fields, layout, snippets and variables")
    async def template_resource(template_id: str, ctx: Context[Any, Any]) -> str:
        template = await guarded_resource(engine_for(ctx).templates_get(template_id))
        return template.model_dump_json()


def _register_pieces(server: MCPServer[Any], engine_for: EngineResolver[TemplatesOps]) -> None:
    @server.tool(annotations=tool_hints(idempotent=True, title="Save a snippet"))
    async def templates_snippet_put(
        snippet_id: SnippetId,
        body: Annotated[str, Field(description="The snippet's Liquid source")],
        ctx: Context[Any, Any],
    ) -> PieceSaved:
        """Create or replace a snippet, a reusable piece rendered with
        {% render 'snippet_id' %} (optionally with arguments: {% render 'x', name: value %}).
        Refused if it would render itself through other snippets."""
        return await guarded(engine_for(ctx).templates_snippet_put(snippet_id, body))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a snippet"))
    async def templates_snippet_get(snippet_id: SnippetId, ctx: Context[Any, Any]) -> Piece:
        """A snippet's source, the snippets it renders, its variables and who renders it."""
        return await guarded(engine_for(ctx).templates_snippet_get(snippet_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="List snippets"))
    async def templates_snippet_list(ctx: Context[Any, Any], limit: Limit = 50,
                                     cursor: Cursor = None) -> PiecesPage:
        """Snippets in id order, a page at a time."""
        return await guarded(engine_for(ctx).templates_snippet_list(limit, cursor))

    @server.tool(annotations=tool_hints(destructive=True, title="Delete a snippet"))
    async def templates_snippet_delete(snippet_id: SnippetId, ctx: Context[Any, Any]) -> PieceDeleted:
        """Delete a snippet; refused while a template, layout or snippet renders it."""
        return await guarded(engine_for(ctx).templates_snippet_delete(snippet_id))

    @server.tool(annotations=tool_hints(idempotent=True, title="Save a layout"))
    async def templates_layout_put(
        layout_id: LayoutId,
        body: Annotated[str, Field(description="HTML Liquid source with {{ content }} where the "
                                               "email body goes")],
        ctx: Context[Any, Any],
    ) -> PieceSaved:
        """Create or replace an email layout: the HTML around an email body, which it
        places with {{ content }}. Email templates name it with layout_id."""
        return await guarded(engine_for(ctx).templates_layout_put(layout_id, body))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a layout"))
    async def templates_layout_get(layout_id: LayoutId, ctx: Context[Any, Any]) -> Piece:
        """A layout's source, the snippets it renders, its variables and the templates
        using it."""
        return await guarded(engine_for(ctx).templates_layout_get(layout_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List layouts"))
    async def templates_layout_list(ctx: Context[Any, Any], limit: Limit = 50,
                                    cursor: Cursor = None) -> PiecesPage:
        """Layouts in id order, a page at a time."""
        return await guarded(engine_for(ctx).templates_layout_list(limit, cursor))

    @server.tool(annotations=tool_hints(destructive=True, title="Delete a layout"))
    async def templates_layout_delete(layout_id: LayoutId, ctx: Context[Any, Any]) -> PieceDeleted:
        """Delete a layout; refused while a template uses it."""
        return await guarded(engine_for(ctx).templates_layout_delete(layout_id))
