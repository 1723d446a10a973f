/** Lexicon store settings (server.ts reads them from the environment once). */
export interface LexiconSettings {
  /** how often a replica looks for a newly published version */
  refreshMs: number;
  /** older versions kept compiled for retroactive scans besides the published one and the draft */
  compiledCacheSize: number;
}

export const lexiconDefaults: Readonly<LexiconSettings> = { refreshMs: 2000, compiledCacheSize: 1 };

const positive = (raw: string | undefined, fallback: number): number => {
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

export function lexiconSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LexiconSettings {
  return {
    refreshMs: positive(env.CZ_COMPLIANCE_LEXICON_REFRESH_MS, lexiconDefaults.refreshMs),
    compiledCacheSize: positive(env.CZ_COMPLIANCE_LEXICON_CACHE, lexiconDefaults.compiledCacheSize),
  };
}
