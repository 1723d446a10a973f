import { fileURLToPath } from 'node:url';
import { hkdfSm3 } from '@cz/common/crypto';
import {
  ConfigError,
  envString,
  optionalClientTlsFromEnv,
  requireSecureUrl,
  secureFetchFor,
} from '@cz/common';
import type { PlaybackOptions } from './routes/playback';
import type { KeysProxyOptions } from './routes/keys-proxy';
import type { ComplianceRelayOptions } from './routes/lexicon-proxy';

/** The portal's settings from the environment, read once at start-up (server.ts). */
export interface PortalSettings {
  /** signs page cursors; the same on every replica */
  cursorKey: Buffer;
  /** built console to serve at `/` */
  consoleRoot: string;
  /** the recordings service, when the portal has a read token for it */
  recordings?: PlaybackOptions;
  /** the key service the officers' console page reaches through the portal */
  keysProxy: KeysProxyOptions;
  /** the compliance service the lexicon pages reach through the portal */
  compliance: ComplianceRelayOptions;
}

export function portalSettingsFromEnv(): PortalSettings {
  // Page cursors are signed with the portal's own secret (the same on every replica), not with a
  // data key: a cursor protects a position in a list, not archived content.
  const cursorSecret = envString('CZ_PORTAL_CURSOR_KEY');
  if (cursorSecret.length < 32) throw new ConfigError('CZ_PORTAL_CURSOR_KEY must be at least 32 characters');
  // the portal's own caller credential (granted recordings.read) is what it presents to recordings
  const recordingsToken = process.env.CZ_KEYSERVICE_TOKEN;
  // the recordings and key services are reached over HTTPS verified against our CA
  const tls = optionalClientTlsFromEnv();
  return {
    cursorKey: hkdfSm3(Buffer.from(cursorSecret, 'utf8'), Buffer.alloc(0), 'cz/portal/cursor', 32),
    consoleRoot: envString('CZ_CONSOLE_ROOT', fileURLToPath(new URL('../../../web/dist', import.meta.url))),
    keysProxy: {
      url: requireSecureUrl('CZ_KEYSERVICE_URL', envString('CZ_KEYSERVICE_URL')),
      fetch: secureFetchFor(tls),
    },
    compliance: {
      url: requireSecureUrl('CZ_COMPLIANCE_URL', envString('CZ_COMPLIANCE_URL', 'https://127.0.0.1:8085')),
      ...(recordingsToken ? { token: recordingsToken } : {}),
      fetch: secureFetchFor(tls),
    },
    ...(recordingsToken
      ? {
          recordings: {
            url: requireSecureUrl(
              'CZ_RECORDINGS_URL',
              envString('CZ_RECORDINGS_URL', 'https://127.0.0.1:8084'),
            ),
            token: recordingsToken,
            tls,
          },
        }
      : {}),
  };
}
