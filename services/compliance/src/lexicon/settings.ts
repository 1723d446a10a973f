/** Lexicon store settings (server.ts reads them from the environment once). */
export interface LexiconSettings {
  /** how often a replica looks for a newly published version */
  refreshMs: number;
}

export const lexiconDefaults: Readonly<LexiconSettings> = { refreshMs: 2000 };

export function lexiconSettingsFromEnv(): LexiconSettings {
  return { ...lexiconDefaults };
}
