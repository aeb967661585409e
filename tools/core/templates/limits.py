"""Bounds on template sources, stored objects and every render."""

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"  # template, snippet and layout ids

SNIPPET_MAX_BYTES = 50_000
LAYOUT_MAX_BYTES = 100_000
MAP_FIELD_MAX_ENTRIES = 50  # push data, webhook headers
MAP_KEY_MAX_BYTES = 100

TEMPLATES_PER_AGENT = 5_000
SNIPPETS_PER_AGENT = 1_000
LAYOUTS_PER_AGENT = 200

# Rendering. Loop iterations count the product of nested loop lengths (python-liquid's
# rule), carried into snippets. Output is counted in characters.
LOOP_ITERATIONS = 10_000
OUTPUT_MAX_CHARS = 1_000_000  # per rendered field, and per filter result
CONTEXT_DEPTH = 20  # nested scopes and {% render %} depth
LOCAL_NAMESPACE_BYTES = 1_000_000  # what {% assign %} / {% capture %} may hold
RENDER_TIME_LIMIT_S = 0.25  # one whole message (every field, layout and snippets)
SEQUENCE_ITEMS = 100_000  # the most items a filter may take or make (arrays, ranges)
HEAVY_TEXT_MAX_CHARS = 100_000  # input of the filters working character by character
NUMBER_MAX_BITS = 65_536  # operands of `times` beyond this are refused
SNIPPET_LOADS = 500  # {% render %} calls in one message

PREVIEW_CONTEXT_MAX_BYTES = 100_000

RENDER_THREADS = 2  # parses (and renders a caller runs on a thread) at once per process
RENDER_SWITCH_INTERVAL_S = 0.0002  # Python's thread switch interval while a render runs
