/** HTML helpers of report.html: escaping and the static tables. */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function table(headers: string[], rows: string[][], numericFrom: number): string {
  const head = headers.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ''}>${h}</th>`).join('');
  const body = rows
    .map((cells) => `<tr>${cells.map((c, i) => (i >= numericFrom ? `<td class="num">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}
