import {
  LEXICON_CATEGORIES,
  LEXICON_CSV_COLUMNS,
  type LexiconEntry,
  type LexiconLineError,
} from '@cz/contracts';
import { entryProblem } from './validate';

/*
 * The lexicon's CSV (import and export): RFC 4180 (comma, CRLF or LF, fields quoted with `"` and
 * `""` inside quotes, line breaks allowed inside quotes), UTF-8, the header line of
 * LEXICON_CSV_COLUMNS. Exported files start with a BOM so that Excel reads them as UTF-8; an
 * import ignores one.
 */

const BOM = '\uFEFF';
const SEVERITIES = ['critical', 'warning', 'info'] as const;
const KINDS = ['term', 'regex', 'proximity', 'allow'] as const;

interface CsvRecord {
  /** 1-based line of the file where the record starts */
  line: number;
  fields: string[];
}

class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Splits `text` into records; blank lines are skipped. Throws CsvSyntaxError on a broken quote. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.startsWith(BOM) ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < input.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let atRecordEnd = false;
    while (!atRecordEnd) {
      if (input[i] === '"') {
        // quoted field: runs to the closing quote; "" is one quote
        i++;
        for (;;) {
          if (i >= input.length) throw new CsvSyntaxError(start, 'a quoted field is not closed');
          const ch = input[i]!;
          if (ch === '"') {
            if (input[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        const next = input[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError(
            line,
            'text after a closing quote (quote the whole field, "" for a quote)',
          );
        }
      } else {
        while (i < input.length && input[i] !== ',' && input[i] !== '\n' && input[i] !== '\r') {
          if (input[i] === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field');
          field += input[i];
          i++;
        }
      }
      fields.push(field);
      field = '';
      if (input[i] === ',') {
        i++;
        continue;
      }
      // end of record: CRLF, LF, a lone CR, or end of input
      if (input[i] === '\r') i++;
      if (input[i] === '\n') i++;
      line++;
      atRecordEnd = true;
    }
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
  }
  return records;
}

const needsQuotes = /[",\r\n]|^\s|\s$/;
const quote = (value: string) => (needsQuotes.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The entries as CSV (BOM, header, CRLF line ends, sorted by id): the import's format. */
export function entriesToCsv(entries: readonly LexiconEntry[]): string {
  const rows = [LEXICON_CSV_COLUMNS.join(',')];
  const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const entry of sorted) {
    const cells: Record<(typeof LEXICON_CSV_COLUMNS)[number], string> = {
      id: entry.id,
      kind: entry.kind,
      pattern: entry.pattern,
      near: entry.near ?? '',
      within: entry.within === undefined ? '' : String(entry.within),
      category: entry.category,
      severity: entry.severity,
      explanation: entry.explanation,
      reg: entry.reg.join(';'),
      pinyin: entry.pinyin === undefined ? '' : String(entry.pinyin),
      negatable: entry.negatable === undefined ? '' : String(entry.negatable),
      enabled: String(entry.enabled),
    };
    rows.push(LEXICON_CSV_COLUMNS.map((column) => quote(cells[column])).join(','));
  }
  return `${BOM}${rows.join('\r\n')}\r\n`;
}

interface ParsedImport {
  entries: LexiconEntry[];
  errors: LexiconLineError[];
}

function parseBoolean(value: string, column: string, problems: string[]): boolean | undefined {
  const text = value.trim().toLowerCase();
  if (text === '') return undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  problems.push(`${column} must be true, false or empty, not "${value.slice(0, 20)}"`);
  return undefined;
}

/**
 * A CSV file → lexicon entries, with every problem of every line (the header is line 1):
 * missing columns, duplicate ids, unknown kinds, categories and severities, and anything the
 * contract or the engine rejects (bad or catastrophic regular expressions…).
 */
export function entriesFromCsv(text: string): ParsedImport {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError)
      return { entries: [], errors: [{ line: err.line, error: err.message }] };
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) return { entries: [], errors: [{ line: 1, error: 'the file is empty' }] };
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const missing = LEXICON_CSV_COLUMNS.filter((column) => !names.includes(column));
  const unknown = names.filter((name) => !(LEXICON_CSV_COLUMNS as readonly string[]).includes(name));
  const headerProblems: string[] = [];
  if (missing.length > 0) headerProblems.push(`missing columns: ${missing.join(', ')}`);
  if (unknown.length > 0) headerProblems.push(`unknown columns: ${unknown.join(', ')}`);
  if (new Set(names).size !== names.length) headerProblems.push('a column appears twice');
  if (headerProblems.length > 0) {
    return {
      entries: [],
      errors: [
        {
          line: header.line,
          error: `${headerProblems.join('; ')} (expected: ${LEXICON_CSV_COLUMNS.join(',')})`,
        },
      ],
    };
  }

  const entries: LexiconEntry[] = [];
  const errors: LexiconLineError[] = [];
  const firstLineOf = new Map<string, number>();
  for (const row of rows) {
    if (row.fields.length !== names.length) {
      errors.push({
        line: row.line,
        error: `expected ${names.length} columns, found ${row.fields.length} (missing columns or an unquoted comma)`,
      });
      continue;
    }
    const cell = (column: (typeof LEXICON_CSV_COLUMNS)[number]) => row.fields[names.indexOf(column)]!;
    const problems: string[] = [];
    const id = cell('id').trim();
    const kind = cell('kind').trim();
    const category = cell('category').trim();
    const severity = cell('severity').trim();
    if (!(KINDS as readonly string[]).includes(kind))
      problems.push(`unknown kind "${kind.slice(0, 20)}" (one of ${KINDS.join(', ')})`);
    if (!(LEXICON_CATEGORIES as readonly string[]).includes(category))
      problems.push(`unknown category "${category.slice(0, 40)}" (one of ${LEXICON_CATEGORIES.join(', ')})`);
    if (!(SEVERITIES as readonly string[]).includes(severity))
      problems.push(`bad severity "${severity.slice(0, 20)}" (one of ${SEVERITIES.join(', ')})`);
    const withinText = cell('within').trim();
    let within: number | undefined;
    if (withinText !== '') {
      within = /^\d{1,3}$/.test(withinText) ? Number(withinText) : Number.NaN;
      if (Number.isNaN(within))
        problems.push(`within must be a whole number, not "${withinText.slice(0, 20)}"`);
    }
    const pinyin = parseBoolean(cell('pinyin'), 'pinyin', problems);
    const negatable = parseBoolean(cell('negatable'), 'negatable', problems);
    // an empty `enabled` means on: a hand-written file lists what it wants to match
    const enabled = parseBoolean(cell('enabled'), 'enabled', problems) ?? true;
    const near = cell('near');
    const reg = cell('reg')
      .split(/[;,\s]+/)
      .map((item) => item.trim())
      .filter((item) => item !== '');

    if (id !== '') {
      const first = firstLineOf.get(id);
      if (first !== undefined) problems.push(`duplicate id "${id}" (first on line ${first})`);
      else firstLineOf.set(id, row.line);
    }
    if (problems.length === 0) {
      const entry: LexiconEntry = {
        id,
        kind: kind as LexiconEntry['kind'],
        pattern: cell('pattern'),
        ...(near === '' ? {} : { near }),
        ...(within === undefined ? {} : { within }),
        category: category as LexiconEntry['category'],
        severity: severity as LexiconEntry['severity'],
        explanation: cell('explanation'),
        reg,
        ...(pinyin === undefined ? {} : { pinyin }),
        ...(negatable === undefined ? {} : { negatable }),
        enabled,
      };
      const problem = entryProblem(entry);
      if (problem) problems.push(problem);
      else entries.push(entry);
    }
    if (problems.length > 0) errors.push({ line: row.line, error: problems.join('; ') });
  }
  if (rows.length === 0 && errors.length === 0)
    errors.push({ line: 1, error: 'the file has a header but no entries' });
  return { entries, errors };
}
