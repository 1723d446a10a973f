/** Live and retroactive scanning settings (server.ts reads them from the environment once). */
export interface ScanSettings {
  /** consumer group of the scanned topics (default cz-compliance) */
  groupId: string;
}

export const scanDefaults: Readonly<ScanSettings> = { groupId: 'cz-compliance' };

export function scanSettingsFromEnv(): ScanSettings {
  return { ...scanDefaults };
}
