/**
 * `*.vae.json` experiment files as text: JSON with comments and trailing commas (JSONC, the
 * dialect of VS Code's own settings files). One parser for the extension host (Train, the
 * diagnostics shown as you type) and the CLI (`--config`), and the mapping from a validation
 * message back to the place in the text it is about. Pure.
 */
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';

export interface TextRange {
  /** Offsets into the text, end exclusive. */
  offset: number;
  length: number;
}

export interface ParseProblem extends TextRange {
  message: string;
}

export type ParsedExperiment =
  | { ok: true; value: Record<string, unknown>; tree: Node }
  | { ok: false; problems: ParseProblem[] };

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false } as const;

/** 1-based line and column of an offset, for messages outside an editor. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function describeParseError(code: number): string {
  const name = printParseErrorCode(code);
  // "PropertyNameExpected" → "property name expected".
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** The text's object (a byte order mark is skipped), or every syntax problem with its place. */
export function parseExperimentText(text: string): ParsedExperiment {
  // The BOM becomes a space: offsets stay those of the text.
  const source = text.replace(/^\uFEFF/, ' ');
  const errors: ParseError[] = [];
  const tree = parseTree(source, errors, PARSE_OPTIONS);
  if (errors.length) {
    return { ok: false, problems: errors.map((e) => ({ offset: e.offset, length: Math.max(1, e.length), message: describeParseError(e.error) })) };
  }
  if (!tree || tree.type !== 'object') {
    return { ok: false, problems: [{ offset: tree ? tree.offset : 0, length: Math.max(1, tree?.length ?? 1), message: 'an experiment file is one JSON object, like {"dimz": 20, "epochs": 10}' }] };
  }
  const value = nodeValue(tree) as Record<string, unknown>;
  return { ok: true, value, tree };
}

/** A node's value (jsonc-parser's getNodeValue, without its prototype-less objects). */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (key && value) out[String(key.value)] = nodeValue(value);
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value as unknown;
  }
}

/** The text parsed, or one message naming the file, line and column of the first problem. */
export function parseExperimentFileText(text: string, fileName: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const parsed = parseExperimentText(text);
  if (parsed.ok) return { ok: true, value: parsed.value };
  const first = parsed.problems[0];
  const { line, column } = lineColumn(text, first.offset);
  const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : '';
  return { ok: false, error: `${fileName}:${line}:${column}: ${first.message}${more}` };
}

/**
 * Where in the file a validation message points: `encoder[2]: …` at that layer, `"dimz": …` at
 * the field's value, a layer's field (`encoder[2]: conv2d "stride" …`) at that field; a message
 * about no one field, or a field the file does not have, at the whole object's first line.
 */
export function rangeOfMessage(tree: Node, message: string): TextRange {
  const layer = /^(encoder|decoder)\[(\d+)\]: (?:\w+ (?:"(\w+)"|has no field "(\w+)"))?/.exec(message);
  const field = /^"([^"]+)"/.exec(message);
  let node: Node | undefined;
  if (layer) {
    const path = [layer[1], Number(layer[2])];
    const key = layer[3] ?? layer[4];
    const layerNode = findNodeAtLocation(tree, path);
    const keyNode = key && layerNode ? findNodeAtLocation(layerNode, [key]) : undefined;
    // A field that is not there (a missing "units") is reported at its layer.
    node = keyNode?.parent ?? layerNode ?? findNodeAtLocation(tree, [layer[1]])?.parent;
  } else if (field) {
    node = findNodeAtLocation(tree, [field[1]])?.parent;
  }
  if (node) return { offset: node.offset, length: node.length };
  return { offset: tree.offset, length: 1 };
}
