/**
 * The SDK sandbox: a child process that loads the bank-supplied libWeWorkFinanceSdk_C.so and does
 * everything that touches it — GetChatData, the RSA step, DecryptData, GetMediaData. A crash of the
 * native library ends this process only; the parent (services/puller) restarts it and resumes from
 * its durable checkpoint. The child keeps no state worth saving: the parent owns seq, posts to
 * ingest and writes the checkpoint.
 *
 * RSA: `encrypt_random_key` is RSA-encrypted with PKCS#1 v1.5 padding by WeCom (fixed by Tencent,
 * not our choice). Node 20 refuses PKCS#1 v1.5 private decryption since the fix for
 * CVE-2023-46809 (Marvin: a timing oracle when an attacker can submit chosen ciphertexts and watch
 * the timing) unless OpenSSL does implicit rejection or the process runs with
 * `--security-revert=CVE-2023-46809`. The parent starts THIS process, and only this one, with that
 * flag when the probe in sdk/rsa.ts says it is needed: the ciphertexts decrypted here come only from
 * Tencent's API through the SDK, never from a caller of ours, and a failure is never reflected to
 * anyone who could time it, so there is no oracle to exploit; the service process keeps the fix.
 */
import { constants, createPrivateKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { loadFinanceSdk, SdkCallError, type FinanceSdk } from './ffi';
import type { ChatEnvelope, ChildInit, ChildReply, ParentRequest, PulledRecord } from './protocol';

const send = (reply: ChildReply) => {
  if (process.send) process.send(reply);
};

let sdk: FinanceSdk | undefined;
let init: ChildInit | undefined;
const privateKeys = new Map<number, KeyObject>();

function parseChatData(raw: Buffer): ChatEnvelope[] {
  const parsed = JSON.parse(raw.toString('utf8')) as {
    errcode?: number;
    errmsg?: string;
    chatdata?: unknown;
  };
  if (parsed.errcode !== undefined && parsed.errcode !== 0) {
    throw new SdkCallError(`GetChatData errcode (${parsed.errmsg ?? ''})`, parsed.errcode);
  }
  if (!Array.isArray(parsed.chatdata)) throw new Error('GetChatData: chatdata is not an array');
  return parsed.chatdata.map((entry: unknown, index) => {
    const e = entry as Partial<ChatEnvelope>;
    if (
      typeof e !== 'object' ||
      e === null ||
      !Number.isSafeInteger(e.seq) ||
      typeof e.msgid !== 'string' ||
      !Number.isInteger(e.publickey_ver) ||
      typeof e.encrypt_random_key !== 'string' ||
      typeof e.encrypt_chat_msg !== 'string'
    ) {
      throw new Error(`GetChatData: chatdata[${index}] lacks seq/msgid/publickey_ver/encrypted fields`);
    }
    return e as ChatEnvelope;
  });
}

function decryptOne(envelope: ChatEnvelope): PulledRecord {
  const key = privateKeys.get(envelope.publickey_ver);
  if (!key) {
    return {
      ok: false,
      envelope,
      stage: 'key',
      reason: `no private key for publickey_ver ${envelope.publickey_ver} (held: ${[...privateKeys.keys()].join(', ') || 'none'})`,
    };
  }
  let randomKey: Buffer;
  try {
    randomKey = privateDecrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(envelope.encrypt_random_key, 'base64'),
    );
  } catch (err) {
    return {
      ok: false,
      envelope,
      stage: 'key',
      reason: `RSA decryption of encrypt_random_key failed with publickey_ver ${envelope.publickey_ver}: ${(err as Error).message}`,
    };
  }
  try {
    // DecryptData takes the random key as a C string: pass its exact bytes, NUL-terminated
    const plaintext = sdk!.decryptData(
      Buffer.concat([randomKey, Buffer.alloc(1)]),
      envelope.encrypt_chat_msg,
    );
    return { ok: true, envelope, plaintext };
  } catch (err) {
    return { ok: false, envelope, stage: 'decrypt', reason: (err as Error).message };
  } finally {
    randomKey.fill(0);
  }
}

function handle(request: ParentRequest): void {
  const cfg = init!;
  try {
    if (request.type === 'pull') {
      const raw = sdk!.getChatData(request.seq, request.limit, cfg.proxy, cfg.passwd, cfg.timeoutSec);
      const records = parseChatData(raw).map(decryptOne);
      send({ type: 'pulled', id: request.id, records });
    } else if (request.type === 'decrypt') {
      send({ type: 'pulled', id: request.id, records: request.envelopes.map(decryptOne) });
    } else {
      const chunk = sdk!.getMediaData(
        Buffer.from(request.index),
        request.sdkfileid,
        cfg.proxy,
        cfg.passwd,
        cfg.timeoutSec,
      );
      send({
        type: 'chunk',
        id: request.id,
        data: chunk.data,
        outIndex: chunk.outIndex,
        finished: chunk.finished,
      });
    }
  } catch (err) {
    const reply: ChildReply = { type: 'error', id: request.id, error: (err as Error).message };
    if (err instanceof SdkCallError) reply.rc = err.rc;
    send(reply);
  }
}

process.on('message', (message: ChildInit | ParentRequest) => {
  if (message.type === 'init') {
    try {
      init = message;
      for (const { publickeyVer, pem } of message.privateKeys) {
        privateKeys.set(publickeyVer, createPrivateKey(pem));
      }
      sdk = loadFinanceSdk(message.libraryPath);
      sdk.init(message.corpId, message.secret);
      message.secret = '';
      message.privateKeys = [];
      send({ type: 'ready', pid: process.pid });
    } catch (err) {
      const reply: ChildReply = { type: 'fatal', error: (err as Error).message };
      if (err instanceof SdkCallError) reply.rc = err.rc;
      send(reply);
      process.exitCode = 3;
      process.disconnect?.();
    }
    return;
  }
  if (!sdk) {
    send({ type: 'error', id: message.id, error: 'SDK not initialised' });
    return;
  }
  handle(message);
});

// The parent is gone (crashed or closed): nothing left to serve.
process.on('disconnect', () => {
  sdk?.destroy();
  process.exit(0);
});
