/*
 * faultp11 — a PKCS#11 module for Kyso's tests that forwards to a real module
 * (SoftHSM2) and injects the faults a real USB token shows: removal, removal
 * in the middle of a signature, PIN counters and lock, keys that need a
 * context-specific login. Never shipped. See testdata/README.md.
 *
 * Build: gcc -shared -fPIC -O2 -Wall -o libkysofault.so faultp11.c -ldl
 *
 * Environment:
 *   KYSO_FAULT_TARGET   the real module (default: SoftHSM's usual paths)
 *   KYSO_FAULT_CONTROL  the control file, re-read before each wrapped call;
 *                       missing or empty = no faults. Lines key=value:
 *     removed=1|all|LABEL[,LABEL...]  tokens pulled out
 *     remove_on_sign=1                the next C_SignInit/C_Sign* pulls the
 *                                     token of that session out (until the
 *                                     control file is rewritten)
 *     pin_flags=count_low,final_try,locked
 *     lock_after=N                    lock the user PIN after N wrong PINs
 *     always_authenticate=1           private keys need CKU_CONTEXT_SPECIFIC
 *     init_fail=CKR_NAME|NUMBER       C_Initialize returns that (e.g.
 *                                     CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED)
 *     crash=C_Initialize|C_GetSlotList|C_Sign
 *                                     the process dies in that call (a module
 *                                     that crashes its host); how: crash_how
 *     crash_how=abort|segv            abort() (default) or a real SIGSEGV
 *     sign_delay_ms=N                 C_Sign/C_SignFinal (the real call, not a
 *                                     length query) sleeps N ms first
 *     login_delay_ms=N                C_Login sleeps N ms (a slow token)
 *     find_delay_ms=N                 each C_FindObjects sleeps N ms
 *     attr_delay_ms=N                 each C_GetAttributeValue sleeps N ms
 *     plug_in_after_ms=N              every token is absent until N ms after
 *                                     the first C_GetSlotList under this
 *                                     control file (then present for good)
 *     pinpad=1|all|LABEL[,LABEL...]   tokens with a PIN pad: the token info
 *                                     has CKF_PROTECTED_AUTHENTICATION_PATH,
 *                                     C_Login takes no PIN (NULL, 0), one with
 *                                     a PIN gets CKR_ARGUMENTS_BAD
 *     pinpad_delay_ms=N               the person types on the pad for N ms
 *     pinpad_outcome=ok|wrong|locked|cancel
 *                                     read when the typing ends
 *     pinpad_pin=PIN                  what "ok" logs in to the target with
 *     hang=C_Sign|C_Login|C_GetSlotList[,...] (1 = C_Sign)
 *                                     the call blocks until the line is gone
 *                                     from the control file (released), then
 *                                     goes on as usual
 *     hang_ms=N                       ... or at most N ms, then returns
 *     hang_result=CKR_NAME|NUMBER     this (default: goes on as usual)
 *     faulty_sign=N|all               the next N signatures (counted from the
 *                                     last rewrite of the control file), or
 *                                     all, come back with one bit flipped
 *   C_WaitForSlotEvent returns CKR_FUNCTION_NOT_SUPPORTED, as SoftHSM and
 *   many vendor modules do: slots are to be polled with C_GetSlotList.
 *   What must outlive a process (wrong-PIN count, a lock from the pad,
 *   removal by remove_on_sign, when plug_in_after_ms started, faulty
 *   signatures made, calls hanging now) is kept in CONTROL.state.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11.h" /* p11-kit's header, copied beside this file */

#define EXPORT __attribute__((visibility("default")))

static const char *default_targets[] = {
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    NULL,
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *target_handle;
static CK_FUNCTION_LIST *T;        /* the target's functions */
static CK_FUNCTION_LIST fl;        /* ours: a copy of T with overrides */
static int initialized;            /* C_Initialize went through us */
static int shared_init;            /* the target was already initialized by someone else */

/* ---- control file ------------------------------------------------------ */

#define MAX_LABELS 16
/* labels: the tokens a line applies to (all, or these labels) */
struct labels {
	int all;
	int n;
	char label[MAX_LABELS][33];
};

enum { PAD_OK, PAD_WRONG, PAD_LOCKED, PAD_CANCEL };
enum { HANG_SIGN = 1, HANG_LOGIN = 2, HANG_SLOTLIST = 4 };

struct control {
	struct labels removed;
	int remove_on_sign;
	CK_FLAGS pin_flags;
	int pin_locked;
	long lock_after;
	int always_auth;
	CK_RV init_fail;          /* 0: none */
	char crash[32];           /* the function that kills the process */
	int crash_segv;           /* SIGSEGV instead of abort() */
	long sign_delay_ms;
	long login_delay_ms;
	long find_delay_ms;
	long attr_delay_ms;
	long plug_in_after_ms;
	struct labels pinpad;
	long pad_delay_ms;
	int pad_outcome;          /* PAD_* */
	char pad_pin[64];
	unsigned hang;            /* HANG_* bits */
	long hang_ms;             /* 0: until released */
	CK_RV hang_rv;            /* 0: go on after hang_ms */
	long faulty;              /* signatures to spoil: 0 none, -1 all */
	char ident[128]; /* identity of the control file: dev:ino:mtime:size */
};

struct state {
	long wrong;              /* wrong user PINs since the last good one */
	int locked;              /* the pad said CKR_PIN_LOCKED */
	char sign_removed[256];  /* "IDENT|LABEL" when remove_on_sign fired */
	char plug[160];          /* "IDENT|MS": plug_in_after_ms started at MS */
	char faulty[160];        /* "IDENT|N": N faulty signatures made */
	long hung;               /* calls blocked in a hang now */
};

static char *trim(char *s) {
	while (isspace((unsigned char)*s)) s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
	return s;
}

/* ckr_value reads a CKR_ name (the few a failing C_Initialize returns) or a
 * number; anything else is CKR_GENERAL_ERROR. */
static CK_RV ckr_value(const char *v) {
	static const struct {
		const char *name;
		CK_RV rv;
	} names[] = {
	    {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},         {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
	    {"CKR_HOST_MEMORY", CKR_HOST_MEMORY},             {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
	    {"CKR_CANT_LOCK", CKR_CANT_LOCK},                 {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
	    {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT}, {"CKR_FUNCTION_CANCELED", CKR_FUNCTION_CANCELED},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i].name)) return names[i].rv;
	char *end;
	unsigned long n = strtoul(v, &end, 0);
	return (*v && !*end && n) ? (CK_RV)n : CKR_GENERAL_ERROR;
}

/* parse_labels reads "1", "all", "0", "" or "LABEL[,LABEL...]". */
static void parse_labels(struct labels *l, char *v) {
	memset(l, 0, sizeof(*l));
	if (!strcmp(v, "1") || !strcmp(v, "all")) {
		l->all = 1;
		return;
	}
	if (!strcmp(v, "0") || !*v) return;
	char *save = NULL;
	for (char *tok = strtok_r(v, ",", &save); tok && l->n < MAX_LABELS; tok = strtok_r(NULL, ",", &save))
		snprintf(l->label[l->n++], 33, "%s", trim(tok));
}

static int labels_have(const struct labels *l, const char *label) {
	if (l->all) return 1;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->label[i], label)) return 1;
	return 0;
}

static int labels_any(const struct labels *l) { return l->all || l->n > 0; }

/* read_control parses the control file; it runs on several threads at
 * once (a hung call polls it without the module lock), hence strtok_r. */
static void read_control(struct control *c) {
	memset(c, 0, sizeof(*c));
	const char *path = getenv("KYSO_FAULT_CONTROL");
	if (!path || !*path) return;
	FILE *f = fopen(path, "r");
	if (!f) return;
	struct stat st;
	if (fstat(fileno(f), &st) == 0)
		snprintf(c->ident, sizeof(c->ident), "%lu:%lu:%ld.%09ld:%ld",
		         (unsigned long)st.st_dev, (unsigned long)st.st_ino,
		         (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec, (long)st.st_size);
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);
		if (!*s || *s == '#') continue;
		char *eq = strchr(s, '=');
		if (!eq) continue;
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		if (!strcmp(k, "removed")) {
			parse_labels(&c->removed, v);
		} else if (!strcmp(k, "remove_on_sign")) {
			c->remove_on_sign = atoi(v) != 0;
		} else if (!strcmp(k, "pin_flags")) {
			char *save = NULL;
			for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				tok = trim(tok);
				if (!strcmp(tok, "count_low")) c->pin_flags |= CKF_USER_PIN_COUNT_LOW;
				else if (!strcmp(tok, "final_try")) c->pin_flags |= CKF_USER_PIN_FINAL_TRY;
				else if (!strcmp(tok, "locked")) { c->pin_flags |= CKF_USER_PIN_LOCKED; c->pin_locked = 1; }
			}
		} else if (!strcmp(k, "lock_after")) {
			c->lock_after = atol(v);
		} else if (!strcmp(k, "always_authenticate")) {
			c->always_auth = atoi(v) != 0;
		} else if (!strcmp(k, "init_fail")) {
			c->init_fail = ckr_value(v);
		} else if (!strcmp(k, "crash")) {
			snprintf(c->crash, sizeof(c->crash), "%s", v);
		} else if (!strcmp(k, "crash_how")) {
			c->crash_segv = !strcmp(v, "segv");
		} else if (!strcmp(k, "sign_delay_ms")) {
			c->sign_delay_ms = atol(v);
		} else if (!strcmp(k, "login_delay_ms")) {
			c->login_delay_ms = atol(v);
		} else if (!strcmp(k, "find_delay_ms")) {
			c->find_delay_ms = atol(v);
		} else if (!strcmp(k, "attr_delay_ms")) {
			c->attr_delay_ms = atol(v);
		} else if (!strcmp(k, "plug_in_after_ms")) {
			c->plug_in_after_ms = atol(v);
		} else if (!strcmp(k, "pinpad")) {
			parse_labels(&c->pinpad, v);
		} else if (!strcmp(k, "pinpad_delay_ms")) {
			c->pad_delay_ms = atol(v);
		} else if (!strcmp(k, "pinpad_outcome")) {
			c->pad_outcome = !strcmp(v, "wrong")    ? PAD_WRONG
			                 : !strcmp(v, "locked") ? PAD_LOCKED
			                 : !strcmp(v, "cancel") ? PAD_CANCEL
			                                        : PAD_OK;
		} else if (!strcmp(k, "pinpad_pin")) {
			snprintf(c->pad_pin, sizeof(c->pad_pin), "%s", v);
		} else if (!strcmp(k, "hang")) {
			char *save = NULL;
			for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				tok = trim(tok);
				if (!strcmp(tok, "1") || !strcmp(tok, "C_Sign")) c->hang |= HANG_SIGN;
				else if (!strcmp(tok, "C_Login")) c->hang |= HANG_LOGIN;
				else if (!strcmp(tok, "C_GetSlotList")) c->hang |= HANG_SLOTLIST;
			}
		} else if (!strcmp(k, "hang_ms")) {
			c->hang_ms = atol(v);
		} else if (!strcmp(k, "hang_result")) {
			c->hang_rv = ckr_value(v);
		} else if (!strcmp(k, "faulty_sign")) {
			c->faulty = !strcmp(v, "all") ? -1 : atol(v);
		}
	}
	fclose(f);
}

static long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sleep_ms sleeps outside the module lock: other threads go on meanwhile. */
static void sleep_ms(long ms) {
	if (ms <= 0) return;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
	}
}

/* maybe_crash kills the process when the control file names fn in crash=,
 * as a buggy vendor module does: abort() (SIGABRT) or a NULL write (SIGSEGV). */
static void maybe_crash(const struct control *c, const char *fn) {
	if (strcmp(c->crash, fn) != 0) return;
	fprintf(stderr, "faultp11: crashing in %s as asked\n", fn);
	if (c->crash_segv) {
		volatile int *p = NULL;
		*p = 1;
	}
	abort();
}

static void state_path(char *buf, size_t n) {
	const char *path = getenv("KYSO_FAULT_CONTROL");
	snprintf(buf, n, "%s.state", path ? path : "");
}

static void read_state(struct state *s) {
	memset(s, 0, sizeof(*s));
	char p[4096];
	state_path(p, sizeof(p));
	FILE *f = fopen(p, "r");
	if (!f) return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char *l = trim(line), *eq = strchr(l, '=');
		if (!eq) continue;
		*eq = 0;
		if (!strcmp(l, "wrong")) s->wrong = atol(eq + 1);
		else if (!strcmp(l, "locked")) s->locked = atoi(eq + 1) != 0;
		else if (!strcmp(l, "sign_removed")) snprintf(s->sign_removed, sizeof(s->sign_removed), "%s", eq + 1);
		else if (!strcmp(l, "plug")) snprintf(s->plug, sizeof(s->plug), "%s", eq + 1);
		else if (!strcmp(l, "faulty")) snprintf(s->faulty, sizeof(s->faulty), "%s", eq + 1);
		else if (!strcmp(l, "hung")) s->hung = atol(eq + 1);
	}
	fclose(f);
}

/* write_state replaces the state file atomically (write + rename). */
static void write_state(const struct state *s) {
	if (!getenv("KYSO_FAULT_CONTROL")) return;
	char p[4096], tmp[4200];
	state_path(p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", p, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) return;
	fprintf(f, "wrong=%ld\nlocked=%d\nsign_removed=%s\nplug=%s\nfaulty=%s\nhung=%ld\n", s->wrong, s->locked,
	        s->sign_removed, s->plug, s->faulty, s->hung);
	if (fclose(f) == 0) rename(tmp, p);
	else unlink(tmp);
}

/* ident_value reads "IDENT|VALUE" kept in the state for the control file
 * ident: VALUE, or -1 when it was kept for another control file. */
static long ident_value(const char *kept, const char *ident) {
	size_t n = strlen(ident);
	if (!n || strncmp(kept, ident, n) != 0 || kept[n] != '|') return -1;
	return atol(kept + n + 1);
}

/* ---- slots, labels, removal ------------------------------------------- */

#define MAX_SLOTS 64
static struct {
	CK_SLOT_ID id;
	char label[33];
	int removed; /* as last observed: sessions were closed on the way in */
} slots[MAX_SLOTS];
static int n_slots;

/* copy_label makes a C string of a token label (32 bytes, blank padded). */
static void copy_label(char dst[33], const CK_UTF8CHAR src[32]) {
	memcpy(dst, src, 32);
	dst[32] = 0;
	for (int j = 31; j >= 0 && dst[j] == ' '; j--) dst[j] = 0;
}

static int slot_index(CK_SLOT_ID id) {
	for (int i = 0; i < n_slots; i++)
		if (slots[i].id == id) return i;
	if (n_slots == MAX_SLOTS) return -1;
	CK_TOKEN_INFO ti;
	int i = n_slots++;
	slots[i].id = id;
	slots[i].label[0] = 0;
	slots[i].removed = 0;
	if (T->C_GetTokenInfo(id, &ti) == CKR_OK) copy_label(slots[i].label, ti.label);
	return i;
}

/* plugged_in says whether plug_in_after_ms has run out (it starts at the
 * first C_GetSlotList under this control file, see w_GetSlotList). */
static int plugged_in(const struct control *c, const struct state *s) {
	if (c->plug_in_after_ms <= 0) return 1;
	long start = ident_value(s->plug, c->ident);
	return start >= 0 && now_ms() - start >= c->plug_in_after_ms;
}

static int label_removed(const struct control *c, const struct state *s, const char *label) {
	if (labels_have(&c->removed, label) || !plugged_in(c, s)) return 1;
	/* remove_on_sign fired while the control file was what it still is. */
	size_t n = strlen(c->ident);
	if (n && !strncmp(s->sign_removed, c->ident, n) && s->sign_removed[n] == '|' &&
	    !strcmp(s->sign_removed + n + 1, label))
		return 1;
	return 0;
}

#define MAX_SESSIONS 1024
static struct {
	CK_SESSION_HANDLE h;
	CK_SLOT_ID slot;
	int dead;      /* its token was removed: the target's session is gone */
	int need_ctx;  /* C_SignInit on a key that needs context-specific login */
	int ctx_ok;    /* ... and C_Login(CKU_CONTEXT_SPECIFIC) succeeded since */
	int used;
} sess[MAX_SESSIONS];

static int sess_find(CK_SESSION_HANDLE h) {
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (sess[i].used && sess[i].h == h) return i;
	return -1;
}

static void sess_add(CK_SESSION_HANDLE h, CK_SLOT_ID slot) {
	int i = sess_find(h); /* the target may reuse a dead session's handle */
	for (int j = 0; i < 0 && j < MAX_SESSIONS; j++)
		if (!sess[j].used) i = j;
	if (i < 0) return;
	memset(&sess[i], 0, sizeof(sess[i]));
	sess[i].used = 1;
	sess[i].h = h;
	sess[i].slot = slot;
}

/*
 * refresh reads the control and state files and applies removals: when a
 * token is seen removed for the first time, all of its sessions on the target
 * are closed (a real token loses its sessions and its login when pulled out)
 * and ours are marked dead, so they never reach a session the target opens
 * later under the same handle. Called with mu held.
 */
static void refresh(struct control *c, struct state *s) {
	read_control(c);
	read_state(s);
	int any = labels_any(&c->removed) || s->sign_removed[0] || c->plug_in_after_ms > 0;
	if (any && n_slots == 0) {
		CK_ULONG n = 0;
		if (T->C_GetSlotList(CK_FALSE, NULL, &n) == CKR_OK && n > 0) {
			CK_SLOT_ID *ids = calloc(n, sizeof(*ids));
			if (ids && T->C_GetSlotList(CK_FALSE, ids, &n) == CKR_OK)
				for (CK_ULONG i = 0; i < n; i++) slot_index(ids[i]);
			free(ids);
		}
	}
	for (int i = 0; i < n_slots; i++) {
		int r = any && label_removed(c, s, slots[i].label);
		if (r && !slots[i].removed) {
			T->C_CloseAllSessions(slots[i].id);
			for (int j = 0; j < MAX_SESSIONS; j++)
				if (sess[j].used && sess[j].slot == slots[i].id) sess[j].dead = 1;
		}
		slots[i].removed = r;
	}
}

static int slot_removed(CK_SLOT_ID id) {
	int i = slot_index(id);
	return i >= 0 && slots[i].removed;
}

/*
 * session_check says what a call on session h returns before reaching the
 * target: CKR_DEVICE_REMOVED while its token is out, CKR_SESSION_HANDLE_INVALID
 * once it is back (the session died with the removal), else CKR_OK.
 */
static CK_RV session_check(CK_SESSION_HANDLE h) {
	int i = sess_find(h);
	if (i < 0) return CKR_OK; /* not opened through us: let the target judge */
	if (slot_removed(sess[i].slot)) return CKR_DEVICE_REMOVED;
	if (sess[i].dead) return CKR_SESSION_HANDLE_INVALID;
	return CKR_OK;
}

#define LOCK() pthread_mutex_lock(&mu)
#define UNLOCK() pthread_mutex_unlock(&mu)

/* SESSION_GUARD refreshes the faults and returns early for a removed token. */
#define SESSION_GUARD(h)                         \
	struct control c;                            \
	struct state st;                             \
	LOCK();                                      \
	refresh(&c, &st);                            \
	CK_RV guard_rv = session_check(h);           \
	UNLOCK();                                    \
	if (guard_rv != CKR_OK) return guard_rv;     \
	(void)c;                                     \
	(void)st

/* hung_add counts the calls blocked in a hang now, in the state file, so a
 * test (another process) can wait until a call is really stuck. */
static void hung_add(long d) {
	struct state st;
	LOCK();
	read_state(&st);
	st.hung += d;
	if (st.hung < 0) st.hung = 0;
	write_state(&st);
	UNLOCK();
}

/*
 * maybe_hang blocks a call named in hang= until the control file no longer
 * names it (re-read every 20 ms), as a token that stops answering inside a
 * call; the module lock is not held, so other calls go on. With hang_ms the
 * wait ends after that long and the call returns hang_result (if set).
 * c is re-read on the way out: the call goes on under the new control.
 */
static CK_RV maybe_hang(struct control *c, unsigned call) {
	if (!(c->hang & call)) return CKR_OK;
	long limit = c->hang_ms, start = now_ms();
	CK_RV rv = CKR_OK;
	hung_add(1);
	for (;;) {
		sleep_ms(20);
		read_control(c);
		if (!(c->hang & call)) break;
		if (limit > 0 && now_ms() - start >= limit) {
			rv = c->hang_rv;
			break;
		}
	}
	hung_add(-1);
	return rv;
}

/* spoil flips one bit in the middle of a signature when faulty_sign asks
 * for it (a fault in the token's RSA-CRT gives a wrong signature: one that
 * does not verify, and that would leak the key to whoever sees it). */
static void spoil(const struct control *c, CK_BYTE *sig, CK_ULONG len) {
	if (!c->faulty || !len) return;
	struct state st;
	LOCK();
	read_state(&st);
	long done = ident_value(st.faulty, c->ident);
	if (done < 0) done = 0;
	if (c->faulty < 0 || done < c->faulty) {
		sig[len / 2] ^= 0x10;
		snprintf(st.faulty, sizeof(st.faulty), "%s|%ld", c->ident, done + 1);
		write_state(&st);
	}
	UNLOCK();
}

/* ---- wrapped functions ------------------------------------------------- */

static CK_RV w_Initialize(void *args) {
	struct control c;
	read_control(&c);
	maybe_crash(&c, "C_Initialize");
	if (c.init_fail) return c.init_fail;
	LOCK();
	if (initialized) {
		UNLOCK();
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	CK_RV rv = T->C_Initialize(args);
	/* The same process may also use the target directly (it is one shared
	 * library instance): share its initialization instead of failing. */
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		shared_init = 1;
		rv = CKR_OK;
	}
	if (rv == CKR_OK) initialized = 1;
	UNLOCK();
	return rv;
}

static CK_RV w_Finalize(void *reserved) {
	LOCK();
	if (!initialized) {
		UNLOCK();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	CK_RV rv = shared_init ? CKR_OK : T->C_Finalize(reserved);
	initialized = 0;
	shared_init = 0;
	n_slots = 0;
	memset(sess, 0, sizeof(sess));
	UNLOCK();
	return rv;
}

static CK_RV w_GetSlotList(CK_BBOOL present, CK_SLOT_ID *list, CK_ULONG *count) {
	struct control c;
	struct state st;
	if (!count) return CKR_ARGUMENTS_BAD;
	LOCK();
	refresh(&c, &st);
	/* plug_in_after_ms counts from the first slot listing under this
	 * control file, in whichever process makes it. */
	if (c.plug_in_after_ms > 0 && ident_value(st.plug, c.ident) < 0) {
		snprintf(st.plug, sizeof(st.plug), "%s|%ld", c.ident, now_ms());
		write_state(&st);
	}
	UNLOCK();
	maybe_crash(&c, "C_GetSlotList");
	if (c.hang & HANG_SLOTLIST) {
		CK_RV hrv = maybe_hang(&c, HANG_SLOTLIST);
		if (hrv != CKR_OK) return hrv;
		LOCK();
		refresh(&c, &st); /* tokens may have come or gone meanwhile */
		UNLOCK();
	}
	if (!present) return T->C_GetSlotList(present, list, count);
	CK_ULONG n = 0;
	CK_RV rv = T->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK) return rv;
	CK_SLOT_ID *all = calloc(n ? n : 1, sizeof(*all));
	if (!all) return CKR_HOST_MEMORY;
	rv = T->C_GetSlotList(CK_TRUE, all, &n);
	if (rv != CKR_OK) {
		free(all);
		return rv;
	}
	CK_ULONG k = 0;
	LOCK();
	for (CK_ULONG i = 0; i < n; i++)
		if (!slot_removed(all[i])) all[k++] = all[i];
	UNLOCK();
	if (list) {
		if (*count < k) rv = CKR_BUFFER_TOO_SMALL;
		else memcpy(list, all, k * sizeof(*all));
	}
	*count = k;
	free(all);
	return rv;
}

static CK_RV w_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO *info) {
	struct control c;
	struct state st;
	LOCK();
	refresh(&c, &st);
	int r = slot_removed(id);
	UNLOCK();
	CK_RV rv = T->C_GetSlotInfo(id, info);
	if (rv == CKR_OK && r) info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
	return rv;
}

/* pin_flags_for returns the PIN flags the faults add to CK_TOKEN_INFO. */
static CK_FLAGS pin_flags_for(const struct control *c, const struct state *st) {
	CK_FLAGS f = c->pin_flags;
	if (st->locked) f |= CKF_USER_PIN_LOCKED;
	if (c->lock_after > 0) {
		if (st->wrong >= 1) f |= CKF_USER_PIN_COUNT_LOW;
		if (st->wrong == c->lock_after - 1) f |= CKF_USER_PIN_FINAL_TRY;
		if (st->wrong >= c->lock_after) f |= CKF_USER_PIN_LOCKED;
	}
	if (f & CKF_USER_PIN_LOCKED) f &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
	return f;
}

static CK_RV w_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO *info) {
	struct control c;
	struct state st;
	LOCK();
	refresh(&c, &st);
	int r = slot_removed(id);
	UNLOCK();
	if (r) return CKR_TOKEN_NOT_PRESENT;
	CK_RV rv = T->C_GetTokenInfo(id, info);
	if (rv != CKR_OK) return rv;
	/* With PIN faults on, the module owns the PIN flags: SoftHSM sets
	 * COUNT_LOW by itself after a wrong PIN and would blur the states. */
	if (c.pin_flags || c.lock_after > 0 || st.locked)
		info->flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
	info->flags |= pin_flags_for(&c, &st);
	char label[33];
	copy_label(label, info->label);
	if (labels_have(&c.pinpad, label)) info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	return rv;
}

/* slot-level calls other than the above fail while the token is out */
static CK_RV slot_check(CK_SLOT_ID id) {
	struct control c;
	struct state st;
	LOCK();
	refresh(&c, &st);
	int r = slot_removed(id);
	UNLOCK();
	return r ? CKR_TOKEN_NOT_PRESENT : CKR_OK;
}

static CK_RV w_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE *list, CK_ULONG *count) {
	CK_RV rv = slot_check(id);
	return rv != CKR_OK ? rv : T->C_GetMechanismList(id, list, count);
}

static CK_RV w_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info) {
	CK_RV rv = slot_check(id);
	return rv != CKR_OK ? rv : T->C_GetMechanismInfo(id, type, info);
}

static CK_RV w_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *h) {
	CK_RV rv = slot_check(id);
	if (rv != CKR_OK) return rv;
	rv = T->C_OpenSession(id, flags, app, notify, h);
	if (rv == CKR_OK) {
		LOCK();
		sess_add(*h, id);
		UNLOCK();
	}
	return rv;
}

static CK_RV w_CloseSession(CK_SESSION_HANDLE h) {
	struct control c;
	struct state st;
	LOCK();
	refresh(&c, &st);
	CK_RV g = session_check(h);
	int i = sess_find(h);
	if (i >= 0 && g != CKR_OK) sess[i].used = 0; /* the target's session is already gone */
	UNLOCK();
	if (g != CKR_OK) return g;
	CK_RV rv = T->C_CloseSession(h);
	LOCK();
	i = sess_find(h);
	if (i >= 0) sess[i].used = 0;
	UNLOCK();
	return rv;
}

static CK_RV w_CloseAllSessions(CK_SLOT_ID id) {
	CK_RV rv = slot_check(id);
	LOCK();
	for (int j = 0; j < MAX_SESSIONS; j++)
		if (sess[j].used && sess[j].slot == id) sess[j].used = 0;
	UNLOCK();
	return rv != CKR_OK ? rv : T->C_CloseAllSessions(id);
}

static CK_RV w_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO *info) {
	SESSION_GUARD(h);
	return T->C_GetSessionInfo(h, info);
}

/*
 * check_pin verifies a PIN against the target without changing its login
 * state: C_SetPIN(pin, pin) in a fresh read/write session of the same token
 * checks the old PIN and writes it back unchanged. Used for context-specific
 * login, which SoftHSM does not enforce by itself, so no PIN is kept here.
 */
static CK_RV check_pin(CK_SESSION_HANDLE h, CK_UTF8CHAR *pin, CK_ULONG len) {
	CK_SESSION_INFO si;
	CK_RV rv = T->C_GetSessionInfo(h, &si);
	if (rv != CKR_OK) return rv;
	CK_SESSION_HANDLE rw;
	rv = T->C_OpenSession(si.slotID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw);
	if (rv != CKR_OK) return rv;
	rv = T->C_SetPIN(rw, pin, len, pin, len);
	T->C_CloseSession(rw);
	return rv;
}

/* count_pin updates the wrong-PIN count after the target judged a user PIN. */
static CK_RV count_pin(const struct control *c, CK_RV rv) {
	if (c->lock_after <= 0 || (rv != CKR_OK && rv != CKR_PIN_INCORRECT)) return rv;
	struct state st;
	LOCK();
	read_state(&st);
	if (rv == CKR_OK) st.wrong = 0;
	else st.wrong++;
	write_state(&st);
	UNLOCK();
	/* The Nth wrong PIN is still CKR_PIN_INCORRECT; the token now reports
	 * CKF_USER_PIN_LOCKED and every later login gets CKR_PIN_LOCKED. */
	return rv;
}

/* session_pad says whether session h is on a token with a PIN pad. */
static int session_pad(const struct control *c, CK_SESSION_HANDLE h) {
	if (!labels_any(&c->pinpad)) return 0;
	CK_SLOT_ID slot = 0;
	LOCK();
	int i = sess_find(h), found = i >= 0;
	if (found) slot = sess[i].slot;
	UNLOCK();
	if (!found) {
		CK_SESSION_INFO si;
		if (T->C_GetSessionInfo(h, &si) != CKR_OK) return 0;
		slot = si.slotID;
	}
	LOCK();
	int k = slot_index(slot), pad = k >= 0 && labels_have(&c->pinpad, slots[k].label);
	UNLOCK();
	return pad;
}

/*
 * pad_entry is the person at the PIN pad: pinpad_delay_ms of typing, then
 * the outcome the control file says at that moment. CKR_OK means "the right
 * PIN was typed": the caller logs the target in with pinpad_pin. c and st
 * are re-read.
 */
static CK_RV pad_entry(CK_SESSION_HANDLE h, struct control *c, struct state *st) {
	sleep_ms(c->pad_delay_ms);
	LOCK();
	refresh(c, st);
	CK_RV g = session_check(h); /* pulled out while the person typed */
	UNLOCK();
	if (g != CKR_OK) return g;
	switch (c->pad_outcome) {
	case PAD_WRONG:
		return count_pin(c, CKR_PIN_INCORRECT);
	case PAD_LOCKED: /* the token says so, now and from then on */
		LOCK();
		read_state(st);
		st->locked = 1;
		write_state(st);
		UNLOCK();
		return CKR_PIN_LOCKED;
	case PAD_CANCEL: /* Cancel on the pad, or its time ran out (OpenSC: both) */
		return CKR_FUNCTION_CANCELED;
	}
	return CKR_OK;
}

static CK_RV w_Login(CK_SESSION_HANDLE h, CK_USER_TYPE type, CK_UTF8CHAR *pin, CK_ULONG len) {
	SESSION_GUARD(h);
	CK_RV rv = maybe_hang(&c, HANG_LOGIN);
	if (rv != CKR_OK) return rv;
	int user = type == CKU_USER || type == CKU_CONTEXT_SPECIFIC;
	if (user && (c.pin_locked || st.locked || (c.lock_after > 0 && st.wrong >= c.lock_after))) return CKR_PIN_LOCKED;
	if (user && session_pad(&c, h)) {
		/* PKCS#11 v2.40 §5.6: with a protected authentication path, pPin
		 * "should be NULL_PTR". OpenSC would send a given PIN past the pad,
		 * readers in secure-entry-only mode refuse it; this module refuses,
		 * so a test catches a caller that asks the person for the PIN. */
		if (pin != NULL || len != 0) return CKR_ARGUMENTS_BAD;
		rv = pad_entry(h, &c, &st);
		if (rv != CKR_OK) return rv;
		pin = (CK_UTF8CHAR *)c.pad_pin;
		len = strlen(c.pad_pin);
	}
	sleep_ms(c.login_delay_ms);
	if (type == CKU_CONTEXT_SPECIFIC && c.always_auth) {
		LOCK();
		int i = sess_find(h);
		int need = i >= 0 && sess[i].need_ctx;
		UNLOCK();
		if (!need) return CKR_OPERATION_NOT_INITIALIZED;
		CK_RV rv = count_pin(&c, check_pin(h, pin, len));
		if (rv == CKR_OK) {
			LOCK();
			i = sess_find(h);
			if (i >= 0) sess[i].ctx_ok = 1;
			UNLOCK();
		}
		return rv;
	}
	rv = T->C_Login(h, type, pin, len);
	if (type == CKU_USER) rv = count_pin(&c, rv);
	return rv;
}

static CK_RV w_Logout(CK_SESSION_HANDLE h) {
	SESSION_GUARD(h);
	return T->C_Logout(h);
}

static CK_RV w_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE *tmpl, CK_ULONG n) {
	SESSION_GUARD(h);
	sleep_ms(c.attr_delay_ms);
	CK_RV rv = T->C_GetAttributeValue(h, o, tmpl, n);
	if (!c.always_auth || (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
	                       rv != CKR_BUFFER_TOO_SMALL))
		return rv;
	CK_OBJECT_CLASS cls = 0;
	CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};
	if (T->C_GetAttributeValue(h, o, &a, 1) != CKR_OK || cls != CKO_PRIVATE_KEY) return rv;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].type != CKA_ALWAYS_AUTHENTICATE) continue;
		if (tmpl[i].pValue == NULL) {
			tmpl[i].ulValueLen = sizeof(CK_BBOOL);
		} else if (tmpl[i].ulValueLen >= sizeof(CK_BBOOL)) {
			*(CK_BBOOL *)tmpl[i].pValue = CK_TRUE;
			tmpl[i].ulValueLen = sizeof(CK_BBOOL);
		}
	}
	return rv;
}

static CK_RV w_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n) {
	SESSION_GUARD(h);
	return T->C_FindObjectsInit(h, tmpl, n);
}

static CK_RV w_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *objs, CK_ULONG max, CK_ULONG *count) {
	SESSION_GUARD(h);
	sleep_ms(c.find_delay_ms);
	return T->C_FindObjects(h, objs, max, count);
}

static CK_RV w_FindObjectsFinal(CK_SESSION_HANDLE h) {
	SESSION_GUARD(h);
	return T->C_FindObjectsFinal(h);
}

/*
 * remove_now handles remove_on_sign: the token of session h is pulled out
 * now. It stays out until the control file is rewritten (Fault.Set/Reset),
 * also for other processes, because the state file records it.
 */
static int remove_now(const struct control *c, CK_SESSION_HANDLE h) {
	if (!c->remove_on_sign || !c->ident[0]) return 0;
	struct state st;
	LOCK();
	int i = sess_find(h);
	int si = i >= 0 ? slot_index(sess[i].slot) : -1;
	if (si >= 0) {
		read_state(&st);
		snprintf(st.sign_removed, sizeof(st.sign_removed), "%s|%s", c->ident, slots[si].label);
		write_state(&st);
		struct control c2;
		refresh(&c2, &st); /* closes the target's sessions */
	}
	UNLOCK();
	return si >= 0;
}

/* sign_abort ends the target's signing operation after we refused a
 * C_Sign*, as a failed C_Sign ends it on a real token. */
static void sign_abort(CK_SESSION_HANDLE h, CK_BYTE *data, CK_ULONG len, int final) {
	CK_BYTE scratch[2048];
	CK_ULONG n = sizeof(scratch);
	if (final) T->C_SignFinal(h, scratch, &n);
	else T->C_Sign(h, data, len, scratch, &n);
}

static CK_RV w_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM *mech, CK_OBJECT_HANDLE key) {
	SESSION_GUARD(h);
	if (remove_now(&c, h)) return CKR_DEVICE_REMOVED;
	CK_RV rv = T->C_SignInit(h, mech, key);
	if (rv == CKR_OK) {
		LOCK();
		int i = sess_find(h);
		if (i >= 0) {
			sess[i].need_ctx = c.always_auth;
			sess[i].ctx_ok = 0;
		}
		UNLOCK();
	}
	return rv;
}

/* ctx_missing reports (and clears) a signing operation that needed a
 * context-specific login and did not get one. */
static int ctx_missing(CK_SESSION_HANDLE h, int end) {
	LOCK();
	int i = sess_find(h), missing = 0;
	if (i >= 0 && sess[i].need_ctx) {
		missing = !sess[i].ctx_ok;
		if (end || missing) sess[i].need_ctx = sess[i].ctx_ok = 0;
	}
	UNLOCK();
	return missing;
}

static CK_RV w_Sign(CK_SESSION_HANDLE h, CK_BYTE *data, CK_ULONG len, CK_BYTE *sig, CK_ULONG *siglen) {
	SESSION_GUARD(h);
	if (remove_now(&c, h)) return CKR_DEVICE_REMOVED;
	/* A length query (sig == NULL) does not end the operation. */
	if (sig == NULL) {
		LOCK();
		int i = sess_find(h), missing = i >= 0 && sess[i].need_ctx && !sess[i].ctx_ok;
		UNLOCK();
		if (missing) {
			ctx_missing(h, 1);
			sign_abort(h, data, len, 0);
			return CKR_USER_NOT_LOGGED_IN;
		}
		return T->C_Sign(h, data, len, sig, siglen);
	}
	if (ctx_missing(h, 0)) {
		sign_abort(h, data, len, 0);
		return CKR_USER_NOT_LOGGED_IN;
	}
	/* A slow token, or one stuck in the call: long enough for a test to
	 * watch progress, cancel, or kill the process mid-way. */
	CK_RV rv = maybe_hang(&c, HANG_SIGN);
	if (rv != CKR_OK) {
		ctx_missing(h, 1);
		sign_abort(h, data, len, 0);
		return rv;
	}
	sleep_ms(c.sign_delay_ms);
	maybe_crash(&c, "C_Sign");
	rv = T->C_Sign(h, data, len, sig, siglen);
	if (rv != CKR_BUFFER_TOO_SMALL) ctx_missing(h, 1);
	if (rv == CKR_OK) spoil(&c, sig, *siglen);
	return rv;
}

static CK_RV w_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE *part, CK_ULONG len) {
	SESSION_GUARD(h);
	if (remove_now(&c, h)) return CKR_DEVICE_REMOVED;
	if (ctx_missing(h, 0)) {
		sign_abort(h, NULL, 0, 1);
		return CKR_USER_NOT_LOGGED_IN;
	}
	return T->C_SignUpdate(h, part, len);
}

static CK_RV w_SignFinal(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *siglen) {
	SESSION_GUARD(h);
	if (remove_now(&c, h)) return CKR_DEVICE_REMOVED;
	if (ctx_missing(h, 0)) {
		sign_abort(h, NULL, 0, 1);
		return CKR_USER_NOT_LOGGED_IN;
	}
	if (sig != NULL) sleep_ms(c.sign_delay_ms);
	CK_RV rv = T->C_SignFinal(h, sig, siglen);
	if (sig != NULL && rv != CKR_BUFFER_TOO_SMALL) ctx_missing(h, 1);
	if (sig != NULL && rv == CKR_OK) spoil(&c, sig, *siglen);
	return rv;
}

/* No slot events: SoftHSM and many vendor modules return this too, and a
 * blocking wait cannot be cancelled short of C_Finalize. Callers poll
 * C_GetSlotList (docs/tokens.md). */
static CK_RV w_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved) {
	(void)flags;
	(void)slot;
	(void)reserved;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- entry point ------------------------------------------------------- */

static CK_RV load_target(void) {
	if (T) return CKR_OK;
	const char *path = getenv("KYSO_FAULT_TARGET");
	if (path && *path) {
		target_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	} else {
		for (int i = 0; default_targets[i] && !target_handle; i++)
			if (access(default_targets[i], R_OK) == 0)
				target_handle = dlopen(default_targets[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (!target_handle) {
		fprintf(stderr, "faultp11: cannot load target module: %s\n", dlerror());
		return CKR_GENERAL_ERROR;
	}
	CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(target_handle, "C_GetFunctionList");
	CK_FUNCTION_LIST *t = NULL;
	if (!get || get(&t) != CKR_OK || !t) {
		fprintf(stderr, "faultp11: target has no usable C_GetFunctionList\n");
		return CKR_GENERAL_ERROR;
	}
	fl = *t;
	fl.C_Initialize = w_Initialize;
	fl.C_Finalize = w_Finalize;
	fl.C_GetSlotList = w_GetSlotList;
	fl.C_GetSlotInfo = w_GetSlotInfo;
	fl.C_GetTokenInfo = w_GetTokenInfo;
	fl.C_GetMechanismList = w_GetMechanismList;
	fl.C_GetMechanismInfo = w_GetMechanismInfo;
	fl.C_OpenSession = w_OpenSession;
	fl.C_CloseSession = w_CloseSession;
	fl.C_CloseAllSessions = w_CloseAllSessions;
	fl.C_GetSessionInfo = w_GetSessionInfo;
	fl.C_Login = w_Login;
	fl.C_Logout = w_Logout;
	fl.C_GetAttributeValue = w_GetAttributeValue;
	fl.C_FindObjectsInit = w_FindObjectsInit;
	fl.C_FindObjects = w_FindObjects;
	fl.C_FindObjectsFinal = w_FindObjectsFinal;
	fl.C_SignInit = w_SignInit;
	fl.C_Sign = w_Sign;
	fl.C_SignUpdate = w_SignUpdate;
	fl.C_SignFinal = w_SignFinal;
	fl.C_WaitForSlotEvent = w_WaitForSlotEvent;
#ifndef KYSO_NO_FUNCTION_LIST
	fl.C_GetFunctionList = C_GetFunctionList;
#else
	fl.C_GetFunctionList = NULL;
#endif
	T = t;
	return CKR_OK;
}

/* Built with -DKYSO_NO_FUNCTION_LIST: a shared library that is no PKCS#11
 * module (it lacks C_GetFunctionList). */
#ifndef KYSO_NO_FUNCTION_LIST
EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list) {
	if (!list) return CKR_ARGUMENTS_BAD;
	LOCK();
	CK_RV rv = load_target();
	UNLOCK();
	if (rv != CKR_OK) return rv;
	*list = &fl;
	return CKR_OK;
}
#else
EXPORT void *kyso_not_pkcs11(void) { return (void *)load_target; }
#endif
