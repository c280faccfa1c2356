/**
 * Where a YAML syntax error is shown. The yaml parser puts an error about something left open (a quoted string, a
 * [ ] list or a { } mapping) at the end of the text, which is after the last line when the file ends with a line
 * break: a line the editor shows empty, or none at all. Such an error is reported where the construct left open
 * starts (as the CSV reader does for a quoted field), and any other error at the end of the text on the last line
 * that is not blank.
 */
import { Parser, type YAMLError } from 'yaml';

export interface YamlErrorSite {
  /** The problem, without the parser's "at line N, column M". */
  message: string;
  /** Offsets in the text: where the error is shown. */
  start: number;
  end: number;
}

interface OpenConstruct {
  kind: 'double' | 'single' | 'sequence' | 'mapping';
  offset: number;
}

/** YAML's whitespace only (a no-break space at the end is content). */
function contentEnd(content: string): number {
  return content.replace(/[ \t\r\n]+$/, '').length;
}

/**
 * The quoted strings and the flow collections the text leaves open, innermost (latest) first. A quoted string left
 * open runs to the end of the text, so it is the last quoted string (when a quote error says one is open); a flow collection is open when its closing
 * bracket is missing from its concrete syntax tree.
 */
function openConstructs(content: string): OpenConstruct[] {
  const open: OpenConstruct[] = [];
  let lastQuoted: OpenConstruct | undefined;
  const walk = (token: unknown): void => {
    if (Array.isArray(token)) return token.forEach(walk);
    if (token === null || typeof token !== 'object') return;
    const node = token as { type?: string; offset?: number; start?: { type?: string }; end?: unknown };
    if (node.type === 'double-quoted-scalar' || node.type === 'single-quoted-scalar') {
      const offset = node.offset ?? 0;
      if (lastQuoted === undefined || offset > lastQuoted.offset) lastQuoted = { kind: node.type === 'double-quoted-scalar' ? 'double' : 'single', offset };
    }
    if (node.type === 'flow-collection') {
      const sequence = node.start?.type === 'flow-seq-start';
      const closer = sequence ? 'flow-seq-end' : 'flow-map-end';
      const ends = Array.isArray(node.end) ? (node.end as { type?: string }[]) : [];
      if (!ends.some((end) => end.type === closer)) open.push({ kind: sequence ? 'sequence' : 'mapping', offset: node.offset ?? 0 });
    }
    for (const value of Object.values(node)) if (typeof value === 'object') walk(value);
  };
  for (const token of new Parser().parse(content)) walk(token);
  if (lastQuoted) open.push(lastQuoted);
  return open.sort((a, b) => b.offset - a.offset);
}

const OPEN_MESSAGES: Record<OpenConstruct['kind'], string> = {
  double: 'the "quoted" string starting on this line is never closed (missing closing ")',
  single: "the 'quoted' string starting on this line is never closed (missing closing ')",
  sequence: 'the [ ] list starting on this line is never closed (missing ])',
  mapping: 'the { } mapping starting on this line is never closed (missing })',
};

/** Which construct an end-of-text error is about, from the parser's wording; undefined for other errors. */
function openKind(message: string): OpenConstruct['kind'] | undefined {
  if (/^Missing closing "quote/.test(message)) return 'double';
  if (/^Missing closing 'quote/.test(message)) return 'single';
  if (/^Flow sequence\b.*end with a \]/.test(message)) return 'sequence';
  if (/^Flow map\b.*end with a \}/.test(message)) return 'mapping';
  return undefined;
}

/** Each error's message and where to show it (see the module comment). */
export function yamlErrorSites(content: string, errors: readonly YAMLError[]): YamlErrorSite[] {
  const end = contentEnd(content);
  let open: OpenConstruct[] | undefined;
  const used = new Set<OpenConstruct>();
  return errors.map((error) => {
    const message = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    if (error.pos[0] < end) return { message, start: error.pos[0], end: error.pos[1] };
    const kind = openKind(message);
    if (kind !== undefined) open ??= openConstructs(content);
    // Nested open collections give one error each, innermost first.
    const construct = open?.find((candidate) => candidate.kind === kind && !used.has(candidate));
    if (construct) {
      used.add(construct);
      return { message: OPEN_MESSAGES[construct.kind], start: construct.offset, end };
    }
    return { message, start: Math.max(0, end - 1), end };
  });
}
