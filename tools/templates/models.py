"""Typed results of the template operations (also the MCP tools' output schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["email", "sms", "push", "in_app", "webhook"]
FieldValue = str | dict[str, str]

_VARIABLES = "Variables the template reads (with snippets and layout), e.g. customer.first_name"
_WARNINGS = ("Things to check: customer attributes no person in this agent has, variables the "
             "engine does not provide")


class TemplateSaved(BaseModel):
    template_id: str
    channel: Channel
    version: int = Field(description="1 when created; +1 on every update")
    created: bool
    layout_id: str | None
    snippets: list[str] = Field(description="Snippets rendered, directly or through others")
    variables: list[str] = Field(description=_VARIABLES)
    warnings: list[str] = Field(description=_WARNINGS)


class Template(BaseModel):
    template_id: str
    channel: Channel
    fields: dict[str, FieldValue] = Field(description="Field name -> Liquid source")
    layout_id: str | None
    version: int
    created_at: str
    updated_at: str
    snippets: list[str] = Field(description="Snippets rendered, directly or through others")
    variables: list[str] = Field(description=_VARIABLES)


class TemplateSummary(BaseModel):
    template_id: str
    channel: Channel
    layout_id: str | None
    version: int
    fields: list[str] = Field(description="The fields this template has")
    updated_at: str


class TemplatesPage(BaseModel):
    templates: list[TemplateSummary]
    total: int = Field(description="Templates in this agent (of this channel, if filtered)")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class TemplateDeleted(BaseModel):
    template_id: str
    deleted: bool


class Preview(BaseModel):
    template_id: str
    channel: Channel
    user_id: str | None = Field(description="The person whose profile was used, if any")
    layout_id: str | None
    fields: dict[str, FieldValue] = Field(
        description="Each field rendered; email text_body is derived from the HTML when the "
                    "template has none")
    warnings: list[str] = Field(description="Variables that rendered empty for this context")


class PieceSaved(BaseModel):
    id: str = Field(description="The snippet or layout id")
    kind: Literal["snippet", "layout"]
    created: bool
    version: int
    snippets: list[str] = Field(description="Snippets it renders, directly or through others")
    variables: list[str] = Field(description="Variables it reads")
    used_by: list[str] = Field(description="Who renders it: 'template:welcome', 'snippet:x'")
    warnings: list[str]


class Piece(BaseModel):
    id: str
    kind: Literal["snippet", "layout"]
    body: str = Field(description="The Liquid source")
    version: int
    created_at: str
    updated_at: str
    snippets: list[str] = Field(description="Snippets it renders, directly or through others")
    variables: list[str]
    used_by: list[str] = Field(description="Who renders it: 'template:welcome', 'snippet:x'")


class PieceSummary(BaseModel):
    id: str
    version: int
    bytes: int = Field(description="Size of the source in UTF-8 bytes")
    updated_at: str


class PiecesPage(BaseModel):
    items: list[PieceSummary]
    total: int
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class PieceDeleted(BaseModel):
    id: str
    kind: Literal["snippet", "layout"]
    deleted: bool
