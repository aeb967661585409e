"""The tags that write values (`{{ x }}`, `{% echo x %}`, `{% cycle %}`), writing each
value's Liquid text (values.to_text) instead of python-liquid's str(), which shows Python
reprs for objects, nil and booleans inside arrays, and nested arrays."""

from __future__ import annotations

from typing import TextIO

from liquid import RenderContext, escape
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.cycle_tag import CycleNode, CycleTag
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.exceptions import LiquidError, LiquidTypeError
from liquid.token import Token
from liquid.undefined import is_undefined

from tools.core.templates.errors import log_unexpected
from tools.core.templates.values import to_text


def write_value(value: object, context: RenderContext, buffer: TextIO, token: Token) -> int:
    """Write the text of `value`, HTML-escaped when the context auto-escapes; a value
    without a text (a number too long to print) is an error at `token`."""
    try:
        text = value if isinstance(value, str) \
            else to_text(value, autoescape=context.autoescape)
    except LiquidError:
        raise
    except ValueError:  # an integer too long for str()
        raise LiquidTypeError("can't write this value as text", token=token) from None
    except Exception as exc:
        log_unexpected("output", exc)
        raise LiquidTypeError("can't write this value as text", token=token) from None
    return buffer.write(escape(text) if context.autoescape else text)


class TextOutputNode(OutputNode):
    """`{{ expression }}`."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:  # noqa: D102
        return write_value(self.expression.evaluate(context), context, buffer, self.token)


class TextEchoNode(EchoNode):
    """`{% echo expression %}`."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:  # noqa: D102
        return write_value(self.expression.evaluate(context), context, buffer, self.token)


class TextCycleNode(CycleNode):
    """`{% cycle a, b %}`. Cycles without a name are told apart by their expressions as
    written (as Shopify's Liquid does), not by str() of their values."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:  # noqa: D102
        key = ""
        if self.group:
            group = self.group.evaluate(context)
            key = "__UNDEFINED" if is_undefined(group) else to_text(group)
        key = key or ", ".join(str(arg) for arg in self.args)
        args = [arg.evaluate(context) for arg in self.args]
        index = context.cycle(key, len(args))
        if index >= len(args):
            return 0
        return write_value(args[index], context, buffer, self.token)


class TextOutput(Output):
    node_class = TextOutputNode


class TextEcho(EchoTag):
    node_class = TextEchoNode


class TextCycle(CycleTag):
    node_class = TextCycleNode


TAGS = (TextOutput, TextEcho, TextCycle)
