/**
 * The engine's warnings and user errors as structured messages (a code and its parameters), and their wording.
 * Each wording is one English template with positional placeholders {0}, {1}, ...: the English text is the template
 * filled in, and the extension passes the same template through vscode.l10n.t, whose Japanese bundle
 * (l10n/bundle.l10n.ja.json) holds a translation for every template here (test/extension.l10n.test.ts checks it).
 * The surface (CLI, VS Code, results.json) names the option the user can change: a flag, a setting, or the plain name.
 * Pure: safe to import from any side.
 */

/** One query named in a message: its 1-based line in the query file and its text. */
export interface QueryExample {
  line: number;
  query?: string;
}

/** Parameters of each message code. Shares are fractions in [0, 1]. */
export interface MessageParams {
  /** An explicit k above N: the Procrustes alignment is not determined by the data. */
  kAboveQueries: { k: number; n: number };
  /** Some queries got a zero vector: the model is left out. */
  zeroVectors: { model: string; tasks: string[]; count: number; n: number; share: number; examples: QueryExample[] };
  /** Distinct queries got exactly the same vector. */
  identicalVectors: { model: string; tasks: string[]; count: number; n: number; share: number; examples: QueryExample[] };
  /** The model's tokenizer does not know a large share of the queries' tokens. */
  unknownTokens: { model: string; share: number; examples: QueryExample[] };
  /** The model could not embed (load error, server error...): left out. */
  modelFailed: { model: string; error: string };
  /** Two models whose embeddings coincide (D below 1e-9 both ways). */
  sameModel: { first: string; second: string };
  /** The reference the user asked for failed: the reference is chosen automatically. */
  referenceLeftOut: { model: string };
  /** Before a run: no chosen model covers the script of these queries. */
  scriptNotCovered: { models: string[]; scripts: string[]; count: number; n: number; share: number; examples: QueryExample[] };
  /** Error: every model failed. */
  noModelLeft: { errors: string[] };
  /** Error: k is not a positive integer. */
  kInvalid: { k: number };
  /** Error: fewer than 3 queries. */
  tooFewQueries: { n: number };
  /** The neighbour searches were turned off: their numbers are null. */
  neighbourOverlapOff: Record<string, never>;
  /** Error: a NaN or infinite value in an embedding. */
  nonFinite: { model: string; task: string; line: number };
  /** Error: the seed is not a non-negative integer. */
  seedInvalid: { seed: number };
  /** Error: the reference model asked for is not one of the models. */
  unknownReference: { reference: string; models: string[] };
}

export type MessageCode = keyof MessageParams;

/** A warning or error in structured form: results.json `warningDetails`, UserError.detail. */
export type EngineMessage = { [C in MessageCode]: { code: C; params: MessageParams[C] } }[MessageCode];

/** How a surface names the options a message refers to. */
export interface Surface {
  option(name: 'k' | 'reference'): string;
}

/** results.json and other surface-neutral text. */
export const PLAIN_SURFACE: Surface = { option: (name) => name };

/** The command line names its flags. */
export const CLI_SURFACE: Surface = { option: (name) => `--${name}` };

/** VS Code names the extension's settings (package.json `contributes.configuration`). */
export const SETTINGS_SURFACE: Surface = { option: (name) => `instructionLens.${name}` };

/** Turns a template and its arguments into text (English: fill in; VS Code: vscode.l10n.t). */
export type Translate = (template: string, ...args: (string | number)[]) => string;

/** Fills {0}, {1}, ... in `template` (the English rendering). */
export const fillTemplate: Translate = (template, ...args) =>
  template.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));

/** Every template of the catalogue, for the localisation check. */
export const MESSAGE_TEMPLATES = {
  kAboveQueries:
    'k = {0} exceeds the number of queries ({1}): the alignment outside the span of the Base embeddings is not determined ' +
    'by the data, so the map may change with {2}; set {2} to {1} or less (or leave it unset: the default is then at most ' +
    'the number of queries), or use at least {0} queries',
  zeroVectors:
    'model {0} gave zero vectors for {1} of {2} queries ({3}) under {4}, e.g. {5}; it is left out of the analysis. ' +
    'Likely cause: this model does not cover the language of these queries',
  identicalVectors:
    'model {0} gave distinct queries the same vector: {1} of {2} queries ({3}) share their vector with another query ' +
    'under {4}, e.g. {5}; its numbers for them are not meaningful. Likely cause: this model does not cover the ' +
    'language of these queries',
  unknownTokens:
    "model {0}'s tokenizer does not know {1} of the queries' tokens, e.g. {2}. Likely cause: this model does not " +
    'cover the language of these queries',
  modelFailed: 'model {0} failed and is left out of the analysis: {1}',
  sameModel:
    'models {0} and {1} give the same embeddings (Procrustes distance below 1e-9 both ways): they are one model ' +
    'under two names',
  referenceLeftOut: 'the reference model {0} was left out, so the reference is chosen automatically',
  noModelLeft: 'no model could be analysed: {0}',
  scriptNotCovered:
    'none of the chosen models ({0}) covers the script ({1}) of {2} of {3} queries ({4}), e.g. {5}: their embeddings ' +
    'would not be meaningful. Choose a model for their language',
  kInvalid: 'k must be a positive integer, got {0}',
  tooFewQueries: 'need at least 3 queries, got {0}',
  neighbourOverlapOff:
    'neighbour overlap was not computed (turned off): neighbourOverlap and relativeMovement are null, and the top ' +
    'movers are the queries of largest cosine distance',
  nonFinite: 'model {0}, task {1}: non-finite value in the embedding of query {2}',
  seedInvalid: 'seed must be a non-negative integer, got {0}',
  unknownReference: 'unknown reference model "{0}" (models: {1}); change {2}',
  example: 'line {0} "{1}"',
  exampleNoText: 'line {0}',
  listSeparator: '; ',
} as const;

/** Longest query text quoted in a message. */
const QUOTE_LENGTH = 60;

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function examples(list: QueryExample[], t: Translate): string {
  return list
    .map((example) => {
      if (example.query === undefined) return t(MESSAGE_TEMPLATES.exampleNoText, example.line);
      const chars = [...example.query];
      const quoted = chars.length > QUOTE_LENGTH ? `${chars.slice(0, QUOTE_LENGTH - 1).join('')}…` : example.query;
      return t(MESSAGE_TEMPLATES.example, example.line, quoted);
    })
    .join(', ');
}

/** The text of a message on a surface, through `t` (default: English). */
export function messageText(message: EngineMessage, surface: Surface = PLAIN_SURFACE, t: Translate = fillTemplate): string {
  const tpl = MESSAGE_TEMPLATES;
  switch (message.code) {
    case 'kAboveQueries': {
      const { k, n } = message.params;
      return t(tpl.kAboveQueries, k, n, surface.option('k'));
    }
    case 'zeroVectors':
    case 'identicalVectors': {
      const p = message.params;
      return t(tpl[message.code], p.model, p.count, p.n, percent(p.share), p.tasks.join(', '), examples(p.examples, t));
    }
    case 'unknownTokens': {
      const p = message.params;
      return t(tpl.unknownTokens, p.model, percent(p.share), examples(p.examples, t));
    }
    case 'modelFailed':
      return t(tpl.modelFailed, message.params.model, message.params.error);
    case 'sameModel':
      return t(tpl.sameModel, message.params.first, message.params.second);
    case 'referenceLeftOut':
      return t(tpl.referenceLeftOut, message.params.model);
    case 'scriptNotCovered': {
      const p = message.params;
      return t(tpl.scriptNotCovered, p.models.join(', '), p.scripts.join(', '), p.count, p.n, percent(p.share), examples(p.examples, t));
    }
    case 'noModelLeft':
      return t(tpl.noModelLeft, message.params.errors.join(t(tpl.listSeparator)));
    case 'kInvalid':
      return t(tpl.kInvalid, message.params.k);
    case 'tooFewQueries':
      return t(tpl.tooFewQueries, message.params.n);
    case 'neighbourOverlapOff':
      return t(tpl.neighbourOverlapOff);
    case 'nonFinite':
      return t(tpl.nonFinite, message.params.model, message.params.task, message.params.line);
    case 'seedInvalid':
      return t(tpl.seedInvalid, message.params.seed);
    case 'unknownReference':
      return t(tpl.unknownReference, message.params.reference, message.params.models.join(', '), surface.option('reference'));
  }
}

/** Which option a message asks the user to change, if any (the extension offers to open that setting). */
export function messageOption(message: EngineMessage): 'k' | 'reference' | undefined {
  if (message.code === 'kAboveQueries' || message.code === 'kInvalid') return 'k';
  return message.code === 'unknownReference' ? 'reference' : undefined;
}
