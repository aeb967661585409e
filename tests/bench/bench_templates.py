"""Templates: (a) rendering a typical email through our render path vs raw python-liquid,
(b) templates_preview latency through the Python API.

(a) The message: a subject and a 40-line HTML body with a loop, a condition and five
filters (default, upcase, date, currency, url_encode). Raw: python-liquid Environments
(autoescape on for the body, as ours), the same filter functions registered, templates
parsed once, `template.render(**data)`. Ours: compile_message (parse-cache lookups) plus
render_message (limits, time bound, escaping, single-line clean-up), without deriving
text_body; the cost of deriving it is printed on its own. Target: ours >= 80% of raw.
(b) `await cio.templates_preview(...)` on a real SQLite file for a stored person (one read
transaction, compile from cache, render, derived text_body). Target: median < 2 ms.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from common import Report, alternate, median, now_ns, parser, percentile, summarize_rates
from liquid import Environment

from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.templates import filters
from tools.core.templates.channels import check_fields
from tools.core.templates.html_text import html_to_text
from tools.core.templates.render import compile_message, render_message
from tools.core.templates.sandbox import render_scope

NOW = 1_780_000_000.0
SUBJECT = "{{ customer.first_name | default: 'there' }}, your order {{ event.order_id }} shipped"
BODY_LINES = [
    "<!doctype html>",
    "<html>",
    "<head><meta charset=\"utf-8\"><title>Your order</title></head>",
    "<body style=\"font-family: sans-serif; margin: 0; padding: 0;\">",
    "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">",
    "<tr><td style=\"padding: 24px;\">",
    "<h1>Hello {{ customer.first_name | default: 'there' | upcase }}!</h1>",
    "<p>Thanks for your order of {{ event.placed_at | date: '%B %-d, %Y' }}.</p>",
    "<p>Order number: <strong>{{ event.order_id }}</strong></p>",
    "<table width=\"100%\" style=\"border-collapse: collapse;\">",
    "<tr><th align=\"left\">Item</th><th>Qty</th><th align=\"right\">Price</th></tr>",
    "{% for item in event.items %}",
    "<tr>",
    "<td>{{ item.name }}</td>",
    "<td align=\"center\">{{ item.quantity }}</td>",
    "<td align=\"right\">{{ item.price | currency }}</td>",
    "</tr>",
    "{% endfor %}",
    "</table>",
    "<p>Total: <strong>{{ event.total | currency }}</strong></p>",
    "{% if customer.plan == 'pro' %}",
    "<p>As a Pro member, shipping was free.</p>",
    "{% else %}",
    "<p>Upgrade to Pro for free shipping on every order.</p>",
    "{% endif %}",
    "<p><a href=\"https://shop.example.com/orders/{{ event.order_id }}\">Track your order</a></p>",
    "<p><a href=\"https://shop.example.com/search?q={{ event.items[0].name | url_encode }}\">"
    "Buy again</a></p>",
    "<p>Questions? Reply to this email or write to help@example.com.</p>",
    "<hr>",
    "<p style=\"font-size: 12px; color: #777;\">",
    "You receive this email because you shopped at Example Shop.",
    "</p>",
    "<p style=\"font-size: 12px; color: #777;\">",
    "Example Shop, 1 Market Street, Springfield",
    "</p>",
    "</td></tr>",
    "</table>",
    "<p style=\"display: none;\">{{ customer.email }}</p>",
    "</body>",
    "</html>",
]
BODY = "\n".join(BODY_LINES)
assert len(BODY_LINES) == 40


def customer() -> dict[str, Any]:
    return {"id": "ada", "email": "ada@example.com", "first_name": "Ada <3", "plan": "pro",
            "created_at": int(NOW) - 86_400}


def event() -> dict[str, Any]:
    items = [{"name": f"Widget {i} & co", "quantity": i + 1, "price": 9.99 + i}
             for i in range(5)]
    return {"order_id": "A-1042", "placed_at": NOW - 3_600, "total": 87.45, "items": items}


def raw_templates() -> tuple[Any, Any]:
    """python-liquid with the same filter functions, templates parsed once."""
    envs = []
    for autoescape in (False, True):
        env = Environment(autoescape=autoescape)
        env.add_filter("date", filters.date_filter)
        env.add_filter("currency", filters.currency)
        envs.append(env)
    return envs[0].from_string(SUBJECT), envs[1].from_string(BODY)


def rate(render: Any, renders: int) -> float:
    start = now_ns()
    for _ in range(renders):
        render()
    return renders / ((now_ns() - start) / 1e9)


def bench_render(report: Report, rounds: int, renders: int) -> None:
    data = {"customer": customer(), "event": event(), "trigger": {}}
    subject, body = raw_templates()

    def raw() -> None:
        subject.render(**data)
        body.render(**data)

    fields = check_fields("email", {"subject": SUBJECT, "body": BODY})

    def ours() -> None:
        render_message(compile_message("email", fields), data, now=NOW, derive_text=False)

    with render_scope({}, datetime.fromtimestamp(NOW, UTC)):
        raw()  # filters read the clock reading only through a render scope
    rendered = render_message(compile_message("email", fields), data, now=NOW)
    assert "&lt;3" in rendered["body"] and "$9.99" in rendered["body"], rendered["body"][:400]
    with render_scope({}, datetime.fromtimestamp(NOW, UTC)):
        raw_rates, our_rates = alternate(
            rounds, lambda _: rate(raw, renders), lambda _: rate(ours, renders), report,
            "renders/s")
    summarize_rates(report, raw_rates, our_rates, "renders/s", 0.80,
                    "render path vs raw python-liquid")
    html = rendered["body"]
    start = now_ns()
    for _ in range(renders):
        html_to_text(html)
    per = (now_ns() - start) / renders / 1000
    report.line(f"deriving text_body from the rendered HTML: {per:,.0f} µs per message "
                "(not in the ratio above; previews and sends without text_body pay it)")


async def bench_preview(report: Report, calls: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with CustomerIO.for_agent("bench", data_dir=Path(folder),
                                        clock=ManualClock(NOW)) as cio:
            attributes = {k: v for k, v in customer().items() if k != "id"}
            await cio.identify("ada", attributes)
            await cio.templates_create("order_shipped", "email", subject=SUBJECT, body=BODY)
            context = {"event": event()}
            for _ in range(50):  # warm up: the parse cache, the connection
                await cio.templates_preview("order_shipped", user_id="ada", context=context)
            times = []
            for _ in range(calls):
                start = now_ns()
                await cio.templates_preview("order_shipped", user_id="ada", context=context)
                times.append((now_ns() - start) / 1e6)
    mid = median(times)
    report.line(f"templates_preview: median {mid:.3f} ms, p90 {percentile(times, 0.9):.3f} ms, "
                f"p99 {percentile(times, 0.99):.3f} ms over {calls:,} calls")
    report.target("templates_preview median", mid < 2.0, f"{mid:.3f} ms (target < 2 ms)")


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=5)
    cli.add_argument("--renders", type=int, default=2_000, help="renders per round")
    cli.add_argument("--calls", type=int, default=2_000, help="previews measured")
    args = cli.parse_args()
    report = Report("bench_templates")
    report.line(f"(a) email render: subject + {len(BODY_LINES)}-line HTML body, "
                f"{args.renders:,} renders per round, {args.rounds} rounds")
    bench_render(report, args.rounds, args.renders)
    report.line("(b) templates_preview through the Python API")
    anyio.run(bench_preview, report, args.calls)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
