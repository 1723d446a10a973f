import type { DataSource } from 'typeorm';
import type { SlaPolicyRule } from '@cz/contracts';
import { loadSlaRules } from '../workflow/sla';

/** The admins' SLA rules, read again at most every `maxAgeMs` (a changed rule applies within that). */
export function cachedSlaRules(db: DataSource, maxAgeMs: number): () => Promise<readonly SlaPolicyRule[]> {
  let rules: readonly SlaPolicyRule[] = [];
  let loadedAt = -Infinity;
  let loading: Promise<readonly SlaPolicyRule[]> | undefined;
  return async () => {
    if (Date.now() - loadedAt < maxAgeMs) return rules;
    loading ??= loadSlaRules(db)
      .then((loaded) => {
        rules = loaded;
        loadedAt = Date.now();
        return rules;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
}
