/**
 * Escaping for every format the reporters write. Summaries carry user-chosen names (flows,
 * checks, tags, scenario names), so no string from a summary reaches HTML, XML or Markdown
 * without passing through one of these.
 */

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] as string);
}

/** Escapes text for XML content and attributes, replacing characters XML 1.0 cannot hold. */
export function escapeXml(text: string): string {
  return replaceXmlForbidden(text)
    .replace(/[&<>"']/g, (c) => (c === "'" ? '&apos;' : (HTML_ENTITIES[c] as string)))
    .replace(/\r/g, '&#13;');
}

/**
 * Serialises data for a `<script type="application/json">` block: `<`, `>` and `&` become
 * JSON unicode escapes, so no `</script>` or `<!--` can end the block early, and U+2028/2029
 * are escaped for old parsers. `JSON.parse` reads the result back unchanged.
 */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Makes text safe for one Markdown table cell: pipes and backslashes escaped, line breaks
 * flattened, and HTML and emphasis characters turned into entities so a name cannot open a
 * tag, a link or a code span in a pull-request comment.
 */
export function escapeMarkdownCell(text: string): string {
  return escapeMarkdownText(text).replace(/\r\n|\r|\n/g, ' ');
}

/** Escapes Markdown inline text (outside tables): HTML and Markdown punctuation neutralised. */
export function escapeMarkdownText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

/**
 * XML 1.0 allows only tab, newline and carriage return below U+0020, no lone surrogates and
 * no U+FFFE/U+FFFF; no escaped form of these exists either, so each becomes U+FFFD.
 */
function replaceXmlForbidden(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    const forbidden =
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
      (code >= 0xd800 && code <= 0xdfff) ||
      code === 0xfffe ||
      code === 0xffff;
    out += forbidden ? '\uFFFD' : char;
  }
  return out;
}
