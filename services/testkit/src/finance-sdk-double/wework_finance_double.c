/*
 * A test double of Tencent's libWeWorkFinanceSdk_C.so (企业微信会话内容存档 C SDK).
 *
 * Same C ABI as the published header WeWorkFinanceSdk_C.h: NewSdk, Init, GetChatData, DecryptData,
 * GetMediaData, DestroySdk, NewSlice/FreeSlice/GetContentFromSlice/GetSliceLen and
 * NewMediaData/FreeMediaData/GetOutIndexBuf/GetData/GetIndexLen/GetDataLen/IsMediaDataFinish, with
 * the same struct layouts (Slice_t, MediaData_t). It serves a scripted sequence read from the text
 * file named by CZ_FAKE_WEWORK_SCRIPT, or <CZ_FAKE_WEWORK_SCRIPT_DIR>/<corpid>.txt, read at Init
 * (see script.ts for the writer):
 *
 *   corp <corpid> <secret>                 Init succeeds only with these
 *   chat <seq> <msgid> <publickey_ver> <encrypt_random_key> <encrypt_chat_msg>
 *   media <sdkfileid> <chunk_bytes> <path> binary content served in chunks by GetMediaData
 *   corrupt-media <sdkfileid> <fetches>    flip one byte in the first <fetches> full downloads
 *   crash-chat <seq>                       SIGSEGV in GetChatData when a batch would contain <seq>
 *   crash-decrypt <random_key>             SIGSEGV in DecryptData for this (RSA-decrypted) key
 *   crash-media <sdkfileid>                SIGSEGV in GetMediaData on the second chunk
 *   fail-chat <calls> <rc>                 the first <calls> GetChatData calls of a process fail
 *   delay-chat <ms>                        sleep in every GetChatData call
 *
 * Every crash happens once: a marker file "<script>.crashed.<hash>" makes the restarted process go
 * on. Records are served in file order from the first one whose seq is above the requested seq, so
 * a script can contain gaps, duplicates and seqs that go backwards.
 *
 * DecryptData's real algorithm lives inside Tencent's SDK and is not published. This double defines
 * its own: encrypt_chat_msg = base64("CZDOUBLE" || plaintext) XOR a keystream derived from the
 * random key (xorshift64* seeded with FNV-1a-64 of the key). It is NOT cryptography: it only gives
 * the puller the same contract (RSA-decrypted key + ciphertext in, plaintext slice out, an error
 * code for a wrong key). The RSA layer around it (encrypt_random_key under the corp's public key of
 * version publickey_ver, PKCS#1 v1.5) is real and done by the test's script writer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct WeWorkFinanceSdk_t {
  int inited;
} WeWorkFinanceSdk_t;

typedef struct Slice_t {
  char *buf;
  int len;
} Slice_t;

typedef struct MediaData {
  char *outindexbuf;
  int out_len;
  char *data;
  int data_len;
  int is_finish;
} MediaData_t;

/* error codes of the real SDK */
enum { ERR_PARAM = 10000, ERR_NETWORK = 10001, ERR_PARSE = 10002, ERR_SYSTEM = 10003, ERR_FILEID = 10005, ERR_DECRYPT = 10006 };

typedef struct {
  unsigned long long seq;
  char *msgid;
  unsigned int ver;
  char *key;
  char *msg;
} ChatRecord;

typedef struct {
  char *fileid;
  long chunk;
  char *path;
  int corrupt_fetches;
  int fetches;
  int crash;
} MediaItem;

static struct {
  int loaded;
  char *path;
  char *corpid;
  char *secret;
  ChatRecord *chats;
  size_t nchats;
  MediaItem *media;
  size_t nmedia;
  unsigned long long *crash_seqs;
  size_t ncrash_seqs;
  char **crash_keys;
  size_t ncrash_keys;
  int fail_calls;
  int fail_rc;
  int delay_ms;
  int chat_calls;
} S;

static uint64_t fnv1a64(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  memcpy(d, s, n + 1);
  return d;
}

/* Crash once per (kind, argument): the marker survives the process that crashed. */
static void crash_once(const char *kind, const char *arg) {
  char marker[4096];
  snprintf(marker, sizeof marker, "%s.crashed.%s.%016llx", S.path, kind,
           (unsigned long long)fnv1a64(arg, strlen(arg)));
  if (access(marker, F_OK) == 0) return;
  FILE *f = fopen(marker, "w");
  if (f) fclose(f);
  raise(SIGSEGV);
}

/* The script is CZ_FAKE_WEWORK_SCRIPT, or <CZ_FAKE_WEWORK_SCRIPT_DIR>/<corpid>.txt (one per corp). */
static void load_script(const char *corpid) {
  if (S.loaded) return;
  S.loaded = 1;
  const char *file = getenv("CZ_FAKE_WEWORK_SCRIPT");
  const char *dir = getenv("CZ_FAKE_WEWORK_SCRIPT_DIR");
  char built[4096];
  if (!file && dir && corpid) {
    snprintf(built, sizeof built, "%s/%s.txt", dir, corpid);
    file = built;
  }
  if (!file) return;
  const char *path = file;
  S.path = dupstr(path);
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t cap = 1 << 20;
  char *line = malloc(cap);
  while (fgets(line, (int)cap, f)) {
    char kind[32] = {0};
    if (sscanf(line, "%31s", kind) != 1 || kind[0] == '#') continue;
    char *a = malloc(strlen(line) + 1), *b = malloc(strlen(line) + 1), *c = malloc(strlen(line) + 1);
    unsigned long long seq;
    unsigned int ver;
    long n;
    int i1, i2;
    if (strcmp(kind, "corp") == 0 && sscanf(line, "%*s %s %s", a, b) == 2) {
      S.corpid = dupstr(a);
      S.secret = dupstr(b);
    } else if (strcmp(kind, "chat") == 0 && sscanf(line, "%*s %llu %s %u %s %s", &seq, a, &ver, b, c) == 5) {
      S.chats = realloc(S.chats, (S.nchats + 1) * sizeof(ChatRecord));
      S.chats[S.nchats++] = (ChatRecord){seq, dupstr(a), ver, dupstr(b), dupstr(c)};
    } else if (strcmp(kind, "media") == 0 && sscanf(line, "%*s %s %ld %s", a, &n, b) == 3) {
      S.media = realloc(S.media, (S.nmedia + 1) * sizeof(MediaItem));
      S.media[S.nmedia++] = (MediaItem){dupstr(a), n > 0 ? n : 524288, dupstr(b), 0, 0, 0};
    } else if (strcmp(kind, "corrupt-media") == 0 && sscanf(line, "%*s %s %d", a, &i1) == 2) {
      for (size_t i = 0; i < S.nmedia; i++)
        if (strcmp(S.media[i].fileid, a) == 0) S.media[i].corrupt_fetches = i1;
    } else if (strcmp(kind, "crash-media") == 0 && sscanf(line, "%*s %s", a) == 1) {
      for (size_t i = 0; i < S.nmedia; i++)
        if (strcmp(S.media[i].fileid, a) == 0) S.media[i].crash = 1;
    } else if (strcmp(kind, "crash-chat") == 0 && sscanf(line, "%*s %llu", &seq) == 1) {
      S.crash_seqs = realloc(S.crash_seqs, (S.ncrash_seqs + 1) * sizeof(unsigned long long));
      S.crash_seqs[S.ncrash_seqs++] = seq;
    } else if (strcmp(kind, "crash-decrypt") == 0 && sscanf(line, "%*s %s", a) == 1) {
      S.crash_keys = realloc(S.crash_keys, (S.ncrash_keys + 1) * sizeof(char *));
      S.crash_keys[S.ncrash_keys++] = dupstr(a);
    } else if (strcmp(kind, "fail-chat") == 0 && sscanf(line, "%*s %d %d", &i1, &i2) == 2) {
      S.fail_calls = i1;
      S.fail_rc = i2;
    } else if (strcmp(kind, "delay-chat") == 0 && sscanf(line, "%*s %d", &i1) == 1) {
      S.delay_ms = i1;
    }
    free(a);
    free(b);
    free(c);
  }
  free(line);
  fclose(f);
}

static void slice_set(Slice_t *slice, char *buf, int len) {
  free(slice->buf);
  slice->buf = buf;
  slice->len = len;
}

/* ---- growable output buffer for the chatdata JSON ---- */
typedef struct {
  char *p;
  size_t len, cap;
} Out;

static void out_put(Out *o, const char *s) {
  size_t n = strlen(s);
  if (o->len + n + 1 > o->cap) {
    o->cap = (o->len + n + 1) * 2;
    o->p = realloc(o->p, o->cap);
  }
  memcpy(o->p + o->len, s, n + 1);
  o->len += n;
}

/* ---- base64 ---- */
static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* returns decoded length, or -1 on a malformed input */
static long b64decode(const char *in, unsigned char *out) {
  long n = 0;
  int acc = 0, bits = 0;
  for (const char *p = in; *p && *p != '='; p++) {
    int v = b64val((unsigned char)*p);
    if (v < 0) return -1;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)((acc >> bits) & 0xff);
    }
  }
  return n;
}

static void keystream_xor(const char *key, unsigned char *buf, long n) {
  uint64_t x = fnv1a64(key, strlen(key));
  if (x == 0) x = 1;
  for (long i = 0; i < n; i++) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    buf[i] ^= (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
  }
}

/* ---------------------------------------------------------------------------------------------- */

EXPORT WeWorkFinanceSdk_t *NewSdk(void) {
  return calloc(1, sizeof(WeWorkFinanceSdk_t));
}

EXPORT int Init(WeWorkFinanceSdk_t *sdk, const char *corpid, const char *secret) {
  if (!sdk || !corpid || !secret) return ERR_PARAM;
  load_script(corpid);
  if (!S.corpid || strcmp(corpid, S.corpid) != 0 || strcmp(secret, S.secret) != 0) return 41001;
  sdk->inited = 1;
  return 0;
}

EXPORT void DestroySdk(WeWorkFinanceSdk_t *sdk) { free(sdk); }

EXPORT int GetChatData(WeWorkFinanceSdk_t *sdk, unsigned long long seq, unsigned int limit, const char *proxy,
                       const char *passwd, int timeout, Slice_t *chatDatas) {
  (void)proxy;
  (void)passwd;
  (void)timeout;
  if (!sdk || !sdk->inited || !chatDatas) return ERR_SYSTEM;
  if (limit == 0 || limit > 1000) return ERR_PARAM;
  S.chat_calls++;
  if (S.delay_ms > 0) {
    struct timespec ts = {S.delay_ms / 1000, (long)(S.delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (S.chat_calls <= S.fail_calls) return S.fail_rc;
  size_t start = S.nchats;
  for (size_t i = 0; i < S.nchats; i++) {
    if (S.chats[i].seq > seq) {
      start = i;
      break;
    }
  }
  size_t end = start + limit < S.nchats ? start + limit : S.nchats;
  for (size_t i = start; i < end; i++) {
    for (size_t k = 0; k < S.ncrash_seqs; k++) {
      if (S.crash_seqs[k] == S.chats[i].seq) {
        char arg[32];
        snprintf(arg, sizeof arg, "%llu", S.chats[i].seq);
        crash_once("chat", arg);
      }
    }
  }
  Out o = {0};
  out_put(&o, "{\"errcode\":0,\"errmsg\":\"ok\",\"chatdata\":[");
  char head[512];
  for (size_t i = start; i < end; i++) {
    ChatRecord *r = &S.chats[i];
    snprintf(head, sizeof head, "%s{\"seq\":%llu,\"msgid\":\"%s\",\"publickey_ver\":%u,\"encrypt_random_key\":\"",
             i == start ? "" : ",", r->seq, r->msgid, r->ver);
    out_put(&o, head);
    out_put(&o, r->key);
    out_put(&o, "\",\"encrypt_chat_msg\":\"");
    out_put(&o, r->msg);
    out_put(&o, "\"}");
  }
  out_put(&o, "]}");
  slice_set(chatDatas, o.p, (int)o.len);
  return 0;
}

EXPORT int DecryptData(const char *encrypt_key, const char *encrypt_msg, Slice_t *msg) {
  if (!encrypt_key || !encrypt_msg || !msg) return ERR_PARAM;
  for (size_t k = 0; k < S.ncrash_keys; k++) {
    if (strcmp(S.crash_keys[k], encrypt_key) == 0) crash_once("decrypt", encrypt_key);
  }
  unsigned char *buf = malloc(strlen(encrypt_msg) + 1);
  long n = b64decode(encrypt_msg, buf);
  if (n < 8) {
    free(buf);
    return ERR_PARSE;
  }
  keystream_xor(encrypt_key, buf, n);
  if (memcmp(buf, "CZDOUBLE", 8) != 0) {
    free(buf);
    return ERR_DECRYPT;
  }
  char *plain = malloc((size_t)n - 8 + 1);
  memcpy(plain, buf + 8, (size_t)n - 8);
  plain[n - 8] = 0;
  free(buf);
  slice_set(msg, plain, (int)(n - 8));
  return 0;
}

EXPORT int GetMediaData(WeWorkFinanceSdk_t *sdk, const char *indexbuf, const char *sdkFileid, const char *proxy,
                        const char *passwd, int timeout, MediaData_t *media_data) {
  (void)proxy;
  (void)passwd;
  (void)timeout;
  if (!sdk || !sdk->inited || !media_data || !sdkFileid) return ERR_PARAM;
  MediaItem *item = NULL;
  for (size_t i = 0; i < S.nmedia; i++)
    if (strcmp(S.media[i].fileid, sdkFileid) == 0) item = &S.media[i];
  if (!item) return ERR_FILEID;
  long offset = 0;
  if (indexbuf && indexbuf[0]) {
    if (sscanf(indexbuf, "off:%ld", &offset) != 1 || offset < 0) return ERR_PARAM;
  } else {
    item->fetches++;
  }
  if (offset > 0 && item->crash) crash_once("media", item->fileid);
  FILE *f = fopen(item->path, "rb");
  if (!f) return ERR_SYSTEM;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  if (offset > size) {
    fclose(f);
    return ERR_PARAM;
  }
  fseek(f, offset, SEEK_SET);
  long want = size - offset < item->chunk ? size - offset : item->chunk;
  char *data = malloc(want > 0 ? (size_t)want : 1);
  long got = (long)fread(data, 1, (size_t)want, f);
  fclose(f);
  if (got != want) {
    free(data);
    return ERR_SYSTEM;
  }
  if (offset == 0 && got > 0 && item->fetches <= item->corrupt_fetches) data[0] ^= 0x5a;
  free(media_data->data);
  free(media_data->outindexbuf);
  media_data->data = data;
  media_data->data_len = (int)got;
  char next[64];
  snprintf(next, sizeof next, "off:%ld", offset + got);
  media_data->outindexbuf = dupstr(next);
  media_data->out_len = (int)strlen(next);
  media_data->is_finish = offset + got >= size ? 1 : 0;
  return 0;
}

EXPORT Slice_t *NewSlice(void) { return calloc(1, sizeof(Slice_t)); }

EXPORT void FreeSlice(Slice_t *slice) {
  if (!slice) return;
  free(slice->buf);
  free(slice);
}

EXPORT char *GetContentFromSlice(Slice_t *slice) { return slice ? slice->buf : NULL; }
EXPORT int GetSliceLen(Slice_t *slice) { return slice ? slice->len : 0; }

EXPORT MediaData_t *NewMediaData(void) { return calloc(1, sizeof(MediaData_t)); }

EXPORT void FreeMediaData(MediaData_t *media_data) {
  if (!media_data) return;
  free(media_data->data);
  free(media_data->outindexbuf);
  free(media_data);
}

EXPORT char *GetOutIndexBuf(MediaData_t *media_data) { return media_data ? media_data->outindexbuf : NULL; }
EXPORT char *GetData(MediaData_t *media_data) { return media_data ? media_data->data : NULL; }
EXPORT int GetIndexLen(MediaData_t *media_data) { return media_data ? media_data->out_len : 0; }
EXPORT int GetDataLen(MediaData_t *media_data) { return media_data ? media_data->data_len : 0; }
EXPORT int IsMediaDataFinish(MediaData_t *media_data) { return media_data ? media_data->is_finish : 0; }
