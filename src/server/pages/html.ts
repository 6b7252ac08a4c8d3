// Strict HTML building for the dashboard. Every interpolated value is escaped unless it is already
// a SafeHtml made by this module, so a string from a log can never become markup: `<script>`,
// `"><img onerror=...>` and the like render as text. URLs go through safeUrl(), which only lets
// through relative paths and http(s) links, so `javascript:` and `data:` never reach an href.

/** Markup that is known to be safe (built by `html` or escaped). Never construct from log text. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (ch) => ESCAPES[ch]!);
}

export type Interpolation = SafeHtml | string | number | boolean | null | undefined | Interpolation[];

function render(v: Interpolation): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: literal parts are trusted markup, every `${value}` is escaped. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Marks a constant string of our own (never log text) as markup. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Joins fragments (already safe or to be escaped) with a safe separator. */
export function join(parts: Interpolation[], sep: SafeHtml | string = ''): SafeHtml {
  const s = render(sep);
  return new SafeHtml(parts.map(render).join(s));
}

/**
 * A URL that may be put in href/src: a same-origin path (`/buckets/3?x=y`, not `//host`), or an
 * absolute http/https URL. Anything else (javascript:, data:, vbscript:, protocol-relative,
 * control characters) returns null so that callers render plain text instead of a link.
 */
export function safeUrl(url: string): string | null {
  // Control characters and whitespace inside a URL are how scheme filters get bypassed.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point.
  if (/[\u0000-\u0020\u007f-\u009f]/.test(url)) return null;
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return parsed.href;
}

/** `<a href>` for a URL that passed safeUrl(); plain escaped text when it did not. */
export function link(url: string, text: Interpolation, attrs: SafeHtml | null = null): SafeHtml {
  const href = safeUrl(url);
  if (href === null) return html`${text}`;
  return html`<a href="${href}"${attrs ? html` ${attrs}` : ''}>${text}</a>`;
}

/** Builds `path?k=v&...` from non-empty values, in the given order. */
export function query(path: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
