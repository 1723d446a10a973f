/**
 * Writes scripts for the Finance-SDK test double (see wework_finance_double.c): chat records
 * encrypted the way WeCom delivers them — a random key RSA-encrypted (PKCS#1 v1.5) under the corp's
 * public key of version `publickey_ver`, and the message encrypted under that random key with the
 * double's own DecryptData scheme.
 */
import { createHash, generateKeyPairSync, publicEncrypt, randomBytes, constants } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RsaKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** WeCom asks for a 2048-bit RSA key pair per version; PKCS#1 PEM like the admin console shows. */
export function rsaKeyPair(): RsaKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** The double's DecryptData inverse: base64(xorshift64* keystream XOR ("CZDOUBLE" || plaintext)). */
export function doubleEncrypt(randomKey: string, plaintext: Buffer): string {
  const buf = Buffer.concat([Buffer.from('CZDOUBLE'), plaintext]);
  const mask = 0xffffffffffffffffn;
  let x = fnv1a64(randomKey) || 1n;
  for (let i = 0; i < buf.length; i++) {
    x ^= x >> 12n;
    x = (x ^ (x << 25n)) & mask;
    x ^= x >> 27n;
    buf[i]! ^= Number(((x * 0x2545f4914f6cdd1dn) & mask) >> 56n);
  }
  return buf.toString('base64');
}

export interface ChatLine {
  seq: number;
  msgid: string;
  publickeyVer: number;
  /** the decrypted record (what DecryptData returns), usually a WeCom message object */
  message: unknown;
  /** override: encrypt the random key with this public key instead of the version's */
  encryptWith?: string;
  /** the random key (RSA plaintext); random when absent */
  randomKey?: string;
}

export interface MediaLine {
  sdkfileid: string;
  /** the bytes, or `path` of a file that holds them (large media without a Buffer) */
  content?: Buffer;
  path?: string;
  chunkBytes: number;
  corruptFetches?: number;
  crash?: boolean;
}

export interface DoubleScript {
  corpId: string;
  secret: string;
  /** publickey_ver → PEM public key */
  publicKeys: Record<number, string>;
  chats: ChatLine[];
  media?: MediaLine[];
  crashChatAtSeq?: number[];
  /** msgids whose DecryptData call crashes (once) */
  crashDecryptOf?: string[];
  failChat?: { calls: number; rc: number };
  delayChatMs?: number;
}

export interface WrittenScript {
  path: string;
  dir: string;
  /** msgid → the random key the double sees in DecryptData */
  randomKeys: Map<string, string>;
  cleanup: () => void;
}

export const md5Hex = (data: Buffer) => createHash('md5').update(data).digest('hex');

/**
 * Writes the script (and media files). With `dir`, as `<dir>/<corpId>.txt` for a double pointed at
 * the directory by CZ_FAKE_WEWORK_SCRIPT_DIR (one script per corp); else into a new temp directory.
 */
export function writeDoubleScript(script: DoubleScript, options: { dir?: string } = {}): WrittenScript {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cz-wework-double-'));
  const lines = [`corp ${script.corpId} ${script.secret}`];
  const randomKeys = new Map<string, string>();
  for (const chat of script.chats) {
    const randomKey = chat.randomKey ?? randomBytes(16).toString('hex');
    randomKeys.set(chat.msgid, randomKey);
    const publicKey = chat.encryptWith ?? script.publicKeys[chat.publickeyVer];
    // an unknown version still needs *some* ciphertext: encrypt under a throwaway key
    const key = publicKey ?? rsaKeyPair().publicKeyPem;
    const encryptedKey = publicEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(randomKey, 'utf8'),
    ).toString('base64');
    const plaintext = Buffer.from(JSON.stringify(chat.message), 'utf8');
    lines.push(
      `chat ${chat.seq} ${chat.msgid} ${chat.publickeyVer} ${encryptedKey} ${doubleEncrypt(randomKey, plaintext)}`,
    );
  }
  for (const [index, media] of (script.media ?? []).entries()) {
    const file = media.path ?? join(dir, `${script.corpId}.media-${index}.bin`);
    if (!media.path) writeFileSync(file, media.content ?? Buffer.alloc(0));
    lines.push(`media ${media.sdkfileid} ${media.chunkBytes} ${file}`);
    if (media.corruptFetches) lines.push(`corrupt-media ${media.sdkfileid} ${media.corruptFetches}`);
    if (media.crash) lines.push(`crash-media ${media.sdkfileid}`);
  }
  for (const seq of script.crashChatAtSeq ?? []) lines.push(`crash-chat ${seq}`);
  for (const msgid of script.crashDecryptOf ?? []) {
    const key = randomKeys.get(msgid);
    if (!key) throw new Error(`crashDecryptOf: no record ${msgid}`);
    lines.push(`crash-decrypt ${key}`);
  }
  if (script.failChat) lines.push(`fail-chat ${script.failChat.calls} ${script.failChat.rc}`);
  if (script.delayChatMs) lines.push(`delay-chat ${script.delayChatMs}`);
  const path = join(dir, options.dir ? `${script.corpId}.txt` : 'script.txt');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return {
    path,
    dir,
    randomKeys,
    cleanup: () => (options.dir ? undefined : rmSync(dir, { recursive: true, force: true })),
  };
}
