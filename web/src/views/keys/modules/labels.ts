import type { CallerOperation, DataClassName, KeyRequestView } from '@cz/contracts';

type Translate = (key: string, named?: Record<string, unknown>) => string;

/** A request kind in words (`caller.issue` reads as the nested locale key `keys.kind.caller.issue`). */
export function kindLabel(t: Translate, kind: string): string {
  const key = `keys.kind.${kind}`;
  const label = t(key);
  return label === key ? kind : label;
}

/** What a request is about: its data class, or the caller / officer it names. */
export function requestTarget(t: Translate, request: KeyRequestView): string {
  if (request.dataClass) return t(`keys.dataClass.${request.dataClass}`);
  const name = request.params.name;
  return typeof name === 'string' ? name : '—';
}

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.map(valueText).join(', ');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

/** The request's parameters as `key: value` lines (never secrets: the key service keeps none there). */
export function paramsText(request: KeyRequestView): string {
  return (
    Object.entries(request.params)
      // the name is already the target of a caller or officer request
      .filter(([key]) => !(key === 'name' && request.dataClass === null))
      .map(([key, value]) => `${key}: ${valueText(value)}`)
      .join('\n')
  );
}

// Records keyed by the contracts' unions: a class or an operation added there fails to compile here.
const DATA_CLASS_SET: Record<DataClassName, true> = {
  chat: true,
  recording: true,
  pii: true,
  index: true,
  audit: true,
};
const OPERATION_SET: Record<CallerOperation, true> = {
  'keys.seal': true,
  'keys.unwrap': true,
  'keys.index': true,
  'keys.rewrap': true,
  'callers.introspect': true,
  'ingest.write': true,
  'recordings.write': true,
  'recordings.read': true,
  'archiver.read': true,
  'archiver.reconcile': true,
  'compliance.lexicon': true,
};

/** the data classes, in the order the page lists them */
export const DATA_CLASSES = Object.keys(DATA_CLASS_SET) as DataClassName[];
/** every operation a caller can be granted */
export const CALLER_OPERATIONS = Object.keys(OPERATION_SET) as CallerOperation[];
