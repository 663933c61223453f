/*
 * vdsotool execution harness: loads a PowerPC vDSO image the way the kernel maps it and
 * calls its functions the way glibc does, under qemu-user.
 *
 *   harness IMAGE  < commands  > results
 *
 * Mapping (kernel 2005): the image's pages at a page-aligned base, the data page right
 * after the last image page; __kernel_datapage_offset patched with
 * (pages << 12) - st_value. Symbols are resolved by name and version LINUX_2.6.15 through
 * .dynsym, the GNU hash table (or the SysV one), .gnu.version and the verdefs, as glibc
 * does. ppc64 ELFv1 symbols are plain code offsets, so function descriptors are built at
 * run time; tests that need CR0.SO call through a small asm shim instead.
 *
 * One command per input line, one result line per command ("key=value" words); the
 * commands are documented in docs/verify.md.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#if defined(__powerpc64__)
typedef Elf64_Ehdr Ehdr; typedef Elf64_Phdr Phdr; typedef Elf64_Dyn Dyn;
typedef Elf64_Sym Sym; typedef uint64_t Bloom;
#else
typedef Elf32_Ehdr Ehdr; typedef Elf32_Phdr Phdr; typedef Elf32_Dyn Dyn;
typedef Elf32_Sym Sym; typedef uint32_t Bloom;
#endif

#define PAGE 4096UL
#define VERSION "LINUX_2.6.15"

/* data page offsets: passed by the driver with -D from vdsotool/abi/datapage.py */
#ifndef CFG_TB_UPDATE_COUNT
#error "build with -DCFG_... from vdsotool.verify.harness_defines()"
#endif

static unsigned char *base;       /* image */
static unsigned char *datapage;   /* base + pages * PAGE */
static size_t pages;
static const Sym *dynsym;
static const char *dynstr;
static const uint32_t *sysv_hash, *gnu_hash;
static const uint16_t *versym;
static const unsigned char *verdef;

/* ---- loading ------------------------------------------------------------------------ */

static void die(const char *msg) { fprintf(stderr, "harness: %s\n", msg); exit(2); }

static void load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) die("cannot open image");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	pages = (size + PAGE - 1) / PAGE;
	base = mmap(NULL, (pages + 1) * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) die("mmap");
	if (fread(base, 1, size, f) != (size_t)size) die("short read");
	fclose(f);
	datapage = base + pages * PAGE;

	const Ehdr *eh = (const Ehdr *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG)) die("not ELF");
	const Phdr *ph = (const Phdr *)(base + eh->e_phoff);
	const Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC) dyn = (const Dyn *)(base + ph[i].p_offset);
	if (!dyn) die("no PT_DYNAMIC");
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const unsigned char *p = base + dyn->d_un.d_ptr; /* linked at 0 */
		switch (dyn->d_tag) {
		case DT_SYMTAB: dynsym = (const Sym *)p; break;
		case DT_STRTAB: dynstr = (const char *)p; break;
		case DT_HASH: sysv_hash = (const uint32_t *)p; break;
		case DT_GNU_HASH: gnu_hash = (const uint32_t *)p; break;
		case DT_VERSYM: versym = (const uint16_t *)p; break;
		case DT_VERDEF: verdef = p; break;
		}
	}
	if (!dynsym || !dynstr || (!sysv_hash && !gnu_hash)) die("incomplete dynamic table");
}

/* ---- symbol lookup ------------------------------------------------------------------ */

static uint32_t elf_hash(const char *s)
{
	uint32_t h = 0, g;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000;
		if (g) h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash_of(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++) h = h * 33 + (unsigned char)*s;
	return h;
}

/* Does symbol i carry version VERSION? (no version data: accept, as glibc does) */
static int version_ok(uint32_t i)
{
	if (!versym || !verdef) return 1;
	unsigned idx = versym[i] & 0x7fff;
	const unsigned char *vd = verdef;
	for (;;) {
		const Elf32_Verdef *d = (const Elf32_Verdef *)vd; /* same layout in ELF64 */
		if (!(d->vd_flags & VER_FLG_BASE) && d->vd_ndx == idx) {
			const Elf32_Verdaux *a = (const Elf32_Verdaux *)(vd + d->vd_aux);
			return d->vd_hash == elf_hash(VERSION) &&
			       strcmp(dynstr + a->vda_name, VERSION) == 0;
		}
		if (!d->vd_next) return 0;
		vd += d->vd_next;
	}
}

static int sym_ok(uint32_t i, const char *name)
{
	const Sym *s = &dynsym[i];
	int bind = s->st_info >> 4;
	return s->st_shndx != SHN_UNDEF && (bind == STB_GLOBAL || bind == STB_WEAK) &&
	       strcmp(dynstr + s->st_name, name) == 0 && version_ok(i);
}

static long lookup_sysv(const char *name)
{
	if (!sysv_hash) return -1;
	uint32_t nbucket = sysv_hash[0];
	const uint32_t *bucket = sysv_hash + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[elf_hash(name) % nbucket]; i; i = chain[i])
		if (sym_ok(i, name)) return (long)dynsym[i].st_value;
	return -1;
}

static long lookup_gnu(const char *name)
{
	if (!gnu_hash) return -1;
	uint32_t nbucket = gnu_hash[0], symoffset = gnu_hash[1];
	uint32_t bloom_size = gnu_hash[2], shift = gnu_hash[3];
	const Bloom *bloom = (const Bloom *)(gnu_hash + 4);
	const uint32_t *bucket = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = bucket + nbucket;
	const unsigned bits = sizeof(Bloom) * 8;
	uint32_t h = gnu_hash_of(name);
	Bloom word = bloom[(h / bits) % bloom_size];
	if (!((word >> (h % bits)) & (word >> ((h >> shift) % bits)) & 1)) return -1;
	uint32_t i = bucket[h % nbucket];
	if (i < symoffset) return -1;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		if ((h | 1) == (h2 | 1) && sym_ok(i, name)) return (long)dynsym[i].st_value;
		if (h2 & 1) return -1;
	}
}

static long lookup(const char *name)
{
	return gnu_hash ? lookup_gnu(name) : lookup_sysv(name);
}

static void *must(const char *name)
{
	long off = lookup(name);
	if (off < 0) { fprintf(stderr, "harness: no symbol %s@%s\n", name, VERSION); exit(2); }
	return base + off;
}

/* ---- calling ------------------------------------------------------------------------ */

/* Call code at fn with r3, r4; return r3, and CR in *cr (for CR0.SO). */
static long call2(void *fn, long a, long b, unsigned long *cr)
{
	register long r3 __asm__("r3") = a;
	register long r4 __asm__("r4") = b;
	register void *r12 __asm__("r12") = fn;
	unsigned long crv;
	__asm__ volatile("mtctr 12\n\tbctrl\n\tmfcr %3"
			 : "+r"(r3), "+r"(r4), "+r"(r12), "=r"(crv)
			 :
			 : "r0", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "ctr", "lr",
			   "cr0", "cr1", "cr5", "cr6", "cr7", "xer", "memory");
	*cr = crv;
	return r3;
}

#define CR0_SO(cr) (((cr) >> 28) & 1)

typedef int (*gtod_fn)(struct timeval *, struct timezone *);

#if defined(__powerpc64__) && (!defined(_CALL_ELF) || _CALL_ELF == 1)
/* ELFv1: a C function pointer points at a descriptor {entry, TOC, environment}. */
static uint64_t gtod_desc[3];
static gtod_fn c_pointer(void *code)
{
	gtod_desc[0] = (uint64_t)code;
	return (gtod_fn)(void *)gtod_desc;
}
#else
static gtod_fn c_pointer(void *code) { return (gtod_fn)code; }
#endif

/* ---- data page helpers -------------------------------------------------------------- */

#define DP64(off) (*(volatile uint64_t *)(datapage + (off)))

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void set_page(const char *hex)
{
	size_t n = strlen(hex) / 2;
	if (n > PAGE) die("page too long");
	for (size_t i = 0; i < n; i++)
		datapage[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

/* ---- commands ----------------------------------------------------------------------- */

static void cmd_gtod(int with_tv, int with_tz)
{
	struct { long sec, usec; } tv = { -1, -1 };
	struct { int minw, dst; } tz = { 0x5a5a5a5a, 0x5a5a5a5a };
	unsigned long cr;
	long rc = call2(must("__kernel_gettimeofday"), with_tv ? (long)&tv : 0,
			with_tz ? (long)&tz : 0, &cr);
	printf("gtod rc=%ld so=%lu sec=%lu usec=%lu minw=%d dst=%d now=%ld\n", rc, CR0_SO(cr),
	       (unsigned long)tv.sec, (unsigned long)tv.usec, tz.minw, tz.dst, (long)time(NULL));
}

static void cmd_map(int with_count)
{
	unsigned count = 0xdeadbeef;
	unsigned long cr;
	long p = call2(must("__kernel_get_syscall_map"), with_count ? (long)&count : 0, 0, &cr);
	const uint32_t *map = (const uint32_t *)p;
	printf("map off=%ld count=%u so=%lu words=", (long)((unsigned char *)p - datapage),
	       count, CR0_SO(cr));
	for (int i = 0; i < 9; i++) printf("%s%08x", i ? "," : "", map[i]);
	printf("\n");
}

static unsigned char *code_buf;

static void put_code(int value)
{
	uint32_t *w = (uint32_t *)code_buf;
	w[0] = 0x38600000u | (value & 0xffff); /* li r3,value */
	w[1] = 0x4e800020u;                    /* blr */
}

/* icache FN: write "li r3,N; blr", flush with FN, run; change N, flush, run again; then an
 * unaligned and an empty range. */
static void cmd_icache(const char *fn_name)
{
	void *fn = must(fn_name);
	unsigned long cr, cr2, cr3;
	if (!code_buf)
		code_buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long a = (long)code_buf + 256;
	code_buf += 256;
	put_code(111);
	long rc1 = call2(fn, a, a + 8, &cr);
	long r1 = call2(code_buf, 0, 0, &cr2);
	put_code(222);
	long rc2 = call2(fn, a + 3, a + 5, &cr3);
	long r2 = call2(code_buf, 0, 0, &cr2);
	unsigned long cr4;
	long rc3 = call2(fn, a, a, &cr4);
	code_buf -= 256;
	printf("icache rc=%ld,%ld,%ld so=%lu,%lu,%lu first=%ld second=%ld\n", rc1, rc2, rc3,
	       CR0_SO(cr), CR0_SO(cr3), CR0_SO(cr4), r1, r2);
}

/* The timebase, read as the shipped vDSO reads it. */
static uint64_t read_tb(void)
{
#if defined(__powerpc64__)
	uint64_t tb;
	__asm__ volatile("mftb %0" : "=r"(tb));
	return tb;
#else
	uint32_t hi, lo, hi2;
	do {
		__asm__ volatile("mftbu %0; mftb %1; mftbu %2" : "=r"(hi), "=r"(lo), "=r"(hi2));
	} while (hi != hi2);
	return (uint64_t)hi << 32 | lo;
#endif
}

static void publish(uint64_t orig, uint64_t tb, uint64_t stamp);

/* gtodw BACK: rebase tb_orig_stamp to BACK ticks before now, then call gettimeofday
 * between two timebase reads (the model brackets the result with them). */
static void cmd_gtodw(uint64_t back)
{
	uint64_t stamp = DP64(CFG_STAMP_XSEC);
	uint64_t orig = read_tb() - back;
	publish(orig, 0, stamp);
	struct { long sec, usec; } tv = { -1, -1 };
	unsigned long cr;
	void *fn = must("__kernel_gettimeofday");
	uint64_t tb0 = read_tb();
	long rc = call2(fn, (long)&tv, 0, &cr);
	uint64_t tb1 = read_tb();
	printf("gtodw rc=%ld so=%lu sec=%lu usec=%lu orig=%llu tb0=%llu tb1=%llu now=%ld\n", rc,
	       CR0_SO(cr), (unsigned long)tv.sec, (unsigned long)tv.usec,
	       (unsigned long long)orig, (unsigned long long)tb0, (unsigned long long)tb1,
	       (long)time(NULL));
}

/* The publication protocol, as the kernel runs it. */
static void publish(uint64_t orig, uint64_t tb, uint64_t stamp)
{
	DP64(CFG_TB_UPDATE_COUNT) += 1; /* odd: update in progress */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	DP64(CFG_TB_ORIG_STAMP) = orig;
	DP64(CFG_TEST_TIMEBASE) = tb;
	DP64(CFG_STAMP_XSEC) = stamp;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	DP64(CFG_TB_UPDATE_COUNT) += 1; /* even: consistent again */
}

/* State k: sec = 1000 + k, and TB - orig = TICKS whatever k; fields from two different
 * states give another tick count (the origins differ wildly) and so another value. */
#define TICKS 768000000ULL
static uint64_t state_orig(unsigned k) { return (uint64_t)k * 0x9E3779B1ULL; }

#define RACE_STATES 1000000
#define RACE_MIN_READS 2000

static volatile int race_stop;
static long race_usec;
static gtod_fn race_fn;
struct reader { volatile long reads; long bad; };

static void *race_reader(void *arg)
{
	struct reader *r = arg;
	while (!race_stop) {
		struct timeval tv;
		race_fn(&tv, NULL);
		r->reads++;
		if (tv.tv_sec < 1000 || tv.tv_sec >= 1000 + RACE_STATES || tv.tv_usec != race_usec)
			r->bad++;
	}
	return NULL;
}


static int readers_done(struct reader *rd, int n)
{
	for (int i = 0; i < n; i++)
		if (rd[i].reads < RACE_MIN_READS) return 0;
	return 1;
}

/* race N READERS: publish at least N states, and until every reader has read
 * RACE_MIN_READS times (states cycle through 1000 .. 1000 + RACE_STATES - 1 seconds). */
static void cmd_race(unsigned nstates, int nreaders)
{
	race_fn = c_pointer(must("__kernel_gettimeofday"));
	publish(state_orig(0), state_orig(0) + TICKS, 1000ULL << 20);
	struct timeval tv;
	race_fn(&tv, NULL);
	race_usec = tv.tv_usec;
	pthread_t th[16];
	struct reader rd[16];
	memset(rd, 0, sizeof rd);
	if (nreaders > 16) nreaders = 16;
	race_stop = 0;
	for (int i = 0; i < nreaders; i++) pthread_create(&th[i], NULL, race_reader, &rd[i]);
	unsigned long k;
	for (k = 1; k < nstates || !readers_done(rd, nreaders); k++) {
		unsigned s = k % RACE_STATES;
		publish(state_orig(s), state_orig(s) + TICKS, (1000ULL + s) << 20);
	}
	race_stop = 1;
	long reads = 0, bad = 0;
	for (int i = 0; i < nreaders; i++) {
		pthread_join(th[i], NULL);
		reads += rd[i].reads;
		bad += rd[i].bad;
	}
	printf("race states=%lu reads=%ld bad=%ld first_sec=%ld usec=%ld\n", k, reads, bad,
	       (long)tv.tv_sec, race_usec);
}

static volatile int odd_done, odd_started;
static void *odd_reader(void *arg)
{
	struct timeval tv;
	odd_started = 1;
	race_fn(&tv, NULL);
	*(long *)arg = tv.tv_sec;
	odd_done = 1;
	return NULL;
}

/* oddwait MS: with an odd count a reader must not return; once even it must. */
static void cmd_oddwait(int ms)
{
	race_fn = c_pointer(must("__kernel_gettimeofday"));
	publish(state_orig(0), state_orig(0) + TICKS, 4242ULL << 20);
	DP64(CFG_TB_UPDATE_COUNT) += 1;
	odd_done = odd_started = 0;
	long sec = 0;
	pthread_t th;
	pthread_create(&th, NULL, odd_reader, &sec);
	while (!odd_started) usleep(1000); /* the reader is about to call: now give it time */
	usleep(ms * 1000);
	int blocked = !odd_done;
	DP64(CFG_TB_UPDATE_COUNT) += 1;
	pthread_join(th, NULL);
	printf("oddwait blocked=%d done=%d sec=%ld\n", blocked, odd_done, sec);
}

int main(int argc, char **argv)
{
	if (argc != 2) die("usage: harness IMAGE < commands");
	load(argv[1]);
	long word_at = lookup("__kernel_datapage_offset");
	if (word_at < 0) die("no __kernel_datapage_offset");
	*(uint32_t *)(base + word_at) = (uint32_t)((pages << 12) - word_at);

	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) > 0) {
		char *cmd = strtok(line, " \n"), *arg = strtok(NULL, " \n");
		char *arg2 = strtok(NULL, " \n");
		if (!cmd) continue;
		if (!strcmp(cmd, "page")) { set_page(arg ? arg : ""); continue; }
		if (!strcmp(cmd, "gtod")) cmd_gtod(1, 1);
		else if (!strcmp(cmd, "gtod_nulltz")) cmd_gtod(1, 0);
		else if (!strcmp(cmd, "gtod_nulltv")) cmd_gtod(0, 1);
		else if (!strcmp(cmd, "map")) cmd_map(1);
		else if (!strcmp(cmd, "map_null")) cmd_map(0);
		else if (!strcmp(cmd, "icache")) cmd_icache(arg);
		else if (!strcmp(cmd, "gtodw")) cmd_gtodw(strtoull(arg, NULL, 0));
		else if (!strcmp(cmd, "race")) cmd_race(atoi(arg), atoi(arg2));
		else if (!strcmp(cmd, "oddwait")) cmd_oddwait(atoi(arg));
		else if (!strcmp(cmd, "lookup"))
			printf("lookup name=%s gnu=%ld sysv=%ld\n", arg, lookup_gnu(arg),
			       lookup_sysv(arg));
		else if (!strcmp(cmd, "info"))
			printf("info pages=%lu word_at=%ld word=%u\n", (unsigned long)pages, word_at,
			       *(uint32_t *)(base + word_at));
		else { printf("error unknown command %s\n", cmd); }
		fflush(stdout);
	}
	return 0;
}
