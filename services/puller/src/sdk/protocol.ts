/**
 * Messages between the puller (parent) and its SDK sandbox child, over the IPC channel with
 * `serialization: 'advanced'` (Buffers travel as Uint8Array, byte for byte).
 */

/** One entry of GetChatData's `chatdata` array, as WeCom sends it (still encrypted). */
export interface ChatEnvelope {
  seq: number;
  msgid: string;
  publickey_ver: number;
  encrypt_random_key: string;
  encrypt_chat_msg: string;
}

export interface ChildInit {
  type: 'init';
  libraryPath: string;
  corpId: string;
  secret: string;
  /** RSA private keys by publickey_ver (PEM), unsealed by the parent */
  privateKeys: { publickeyVer: number; pem: string }[];
  proxy: string;
  passwd: string;
  timeoutSec: number;
}

export type ParentRequest =
  | { type: 'pull'; id: number; seq: number; limit: number }
  | { type: 'media'; id: number; sdkfileid: string; index: Uint8Array }
  /** decrypt envelopes again (quarantined ones, once their key version is held) */
  | { type: 'decrypt'; id: number; envelopes: ChatEnvelope[] };

export type DecryptStage = 'key' | 'decrypt';

export type PulledRecord =
  | { ok: true; envelope: ChatEnvelope; plaintext: Uint8Array }
  | { ok: false; envelope: ChatEnvelope; stage: DecryptStage; reason: string };

export type ChildReply =
  | { type: 'ready'; pid: number }
  | { type: 'fatal'; error: string; rc?: number }
  | { type: 'pulled'; id: number; records: PulledRecord[] }
  | { type: 'chunk'; id: number; data: Uint8Array; outIndex: Uint8Array; finished: boolean }
  | { type: 'error'; id: number; error: string; rc?: number };
