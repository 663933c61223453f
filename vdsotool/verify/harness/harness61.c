/*
 * vdsotool execution harness for the Linux 6.1 vDSO ABI: maps an image the way a 6.1
 * kernel does and calls its functions the way glibc does, under qemu-user.
 *
 *   harness61 IMAGE PAGE_SIZE  < commands  > results
 *
 * Mapping (modern-vdso-abi.md 2.1): two vvar pages of PAGE_SIZE, then the image's text, the
 * whole at a 64 KiB-aligned address. Page 0 is the data page (or a time-namespace page),
 * page 1 the real data page behind a namespace page; outside a namespace page 1 is
 * unreadable, as the kernel's fault handler makes it. Symbols are found by name and
 * version LINUX_2.6.15 through .dynsym, the GNU hash table (or the SysV one),
 * .gnu.version and the verdefs, as glibc does. Every call goes through "mtctr; bctrl"
 * with the entry address (no function descriptors: the 6.1 exports are code addresses)
 * and reports r3 and CR0.SO.
 *
 * One command per input line, one result line per command ("key=value" words):
 *   vvar0 HEX / vvar1 HEX   fill page 0 / page 1 (page 1 becomes readable)
 *   nopage1                 make page 1 unreadable again
 *   cgt CLK / cgt64 CLK     clock_gettime / clock_gettime64 (ppc32): rc so sec nsec tb0 tb1
 *   cgtsys CLK              the clock_gettime syscall itself, for the fallback's oracle
 *   res CLK / resnull CLK   clock_getres with a timespec / NULL
 *   ressys CLK              the clock_getres syscall itself
 *   gtod / gtod_nulltz / gtod_nulltv
 *   time / timenull         time(&t) / time(NULL)
 *   tbfreq / map / map_null / getcpu / getcpu_null
 *   icache                  sync_dicache on freshly written code, then run it
 *   oddwait CLK MS          seq odd on page 0's element of CLK: the call must wait
 *   regs                    callee-saved registers survive a clock_gettime call
 *   info                    where page 0 and the text are mapped (for instruction counts)
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__powerpc64__)
typedef Elf64_Ehdr Ehdr; typedef Elf64_Phdr Phdr; typedef Elf64_Dyn Dyn;
typedef Elf64_Sym Sym; typedef uint64_t Bloom;
#else
typedef Elf32_Ehdr Ehdr; typedef Elf32_Phdr Phdr; typedef Elf32_Dyn Dyn;
typedef Elf32_Sym Sym; typedef uint32_t Bloom;
#endif

#define VERSION "LINUX_2.6.15"
#define ALIGNMENT 0x10000UL /* VDSO_ALIGNMENT */

/* offsets, passed with -D from vdsotool/abi/datapage61.py */
#ifndef VDSO_DATA
#error "build with -DVDSO_DATA=... from vdsotool.verify.harness61_defines()"
#endif

static unsigned long page_size;
static unsigned char *vvar;  /* page 0 */
static unsigned char *base;  /* the image's text */
static const Sym *dynsym;
static const char *dynstr;
static const uint32_t *sysv_hash, *gnu_hash;
static const uint16_t *versym;
static const unsigned char *verdef;

static void die(const char *msg) { fprintf(stderr, "harness61: %s\n", msg); exit(2); }

static void load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) die("cannot open image");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (size <= 0 || size > (64L << 20)) die("bad image size");
	unsigned long text = (size + page_size - 1) / page_size * page_size;
	unsigned long total = 2 * page_size + text + ALIGNMENT;
	unsigned char *area = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) die("mmap");
	vvar = (unsigned char *)(((unsigned long)area + ALIGNMENT - 1) & ~(ALIGNMENT - 1));
	base = vvar + 2 * page_size;
	if (mprotect(vvar, page_size, PROT_READ | PROT_WRITE)) die("mprotect vvar");
	if (mprotect(base, text, PROT_READ | PROT_WRITE | PROT_EXEC)) die("mprotect text");
	if (fread(base, 1, size, f) != (size_t)size) die("short read");
	fclose(f);

	const Ehdr *eh = (const Ehdr *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG)) die("not ELF");
	if (eh->e_phoff + (unsigned long)eh->e_phnum * sizeof(Phdr) > (unsigned long)size)
		die("program headers outside the image");
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

/* ---- symbol lookup (as glibc's dl_vdso_vsym) ------------------------------------------ */

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

static long lookup(const char *name)
{
	if (gnu_hash) {
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
	uint32_t nbucket = sysv_hash[0];
	const uint32_t *bucket = sysv_hash + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[elf_hash(name) % nbucket]; i; i = chain[i])
		if (sym_ok(i, name)) return (long)dynsym[i].st_value;
	return -1;
}

static void *must(const char *name)
{
	long off = lookup(name);
	if (off < 0) { printf("error missing=%s\n", name); fflush(stdout); exit(3); }
	return base + off;
}

/* ---- calling ------------------------------------------------------------------------ */

struct ret { long r3, r4; unsigned long cr; };

/* Call code at fn with r3, r4 as glibc does (mtctr; bctrl); r3, r4 and CR after it. */
static struct ret call(void *fn, long a, long b)
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
	struct ret r = { r3, r4, crv };
	return r;
}

#define SO(r) (((r).cr >> 28) & 1)

static uint64_t read_tb(void)
{
#if defined(__powerpc64__)
	uint64_t tb;
	__asm__ volatile("mfspr %0,268" : "=r"(tb));
	return tb;
#else
	uint32_t hi, lo, hi2;
	do {
		__asm__ volatile("mfspr %0,269; mfspr %1,268; mfspr %2,269"
				 : "=r"(hi), "=r"(lo), "=r"(hi2));
	} while (hi != hi2);
	return (uint64_t)hi << 32 | lo;
#endif
}

/* ---- vvar ------------------------------------------------------------------------------ */

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

static void set_page(int which, const char *hex)
{
	unsigned char *page = vvar + which * page_size;
	size_t n = strlen(hex) / 2;
	if (n > page_size) die("page too long");
	if (which == 1 && mprotect(page, page_size, PROT_READ | PROT_WRITE)) die("mprotect");
	memset(page, 0, page_size);
	for (size_t i = 0; i < n; i++)
		page[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

/* ---- commands ----------------------------------------------------------------------- */

static void cmd_cgt(const char *fn_name, const char *tag, long clk, int wide)
{
	void *fn = must(fn_name);
	union { struct { int64_t sec, nsec; } w; struct { int32_t sec, nsec; } n; } ts;
	memset(&ts, 0xa5, sizeof ts);
	uint64_t tb0 = read_tb();
	struct ret r = call(fn, clk, (long)&ts);
	uint64_t tb1 = read_tb();
	if (wide)
		printf("%s rc=%ld so=%lu sec=%lld nsec=%lld tb0=%llu tb1=%llu\n", tag, r.r3, SO(r),
		       (long long)ts.w.sec, (long long)ts.w.nsec, (unsigned long long)tb0,
		       (unsigned long long)tb1);
	else
		printf("%s rc=%ld so=%lu sec=%d nsec=%d tb0=%llu tb1=%llu\n", tag, r.r3, SO(r),
		       ts.n.sec, ts.n.nsec, (unsigned long long)tb0, (unsigned long long)tb1);
}

static void cmd_cgtsys(long clk)
{
	struct timespec ts;
	long rc = syscall(SYS_clock_gettime, clk, &ts);
	printf("cgtsys rc=%ld errno=%d\n", rc, rc ? errno : 0);
}

static void cmd_ressys(long clk)
{
	struct timespec ts;
	long rc = syscall(SYS_clock_getres, clk, &ts);
	printf("ressys rc=%ld errno=%d\n", rc, rc ? errno : 0);
}

static void cmd_res(long clk, int null)
{
	union { struct { int64_t sec, nsec; } w; struct { int32_t sec, nsec; } n; } ts;
	memset(&ts, 0xa5, sizeof ts);
	struct ret r = call(must("__kernel_clock_getres"), clk, null ? 0 : (long)&ts);
	int wide = sizeof(long) == 8;
	long long sec = wide ? ts.w.sec : ts.n.sec, nsec = wide ? ts.w.nsec : ts.n.nsec;
	if (null) { sec = nsec = -1; }
	printf("res rc=%ld so=%lu sec=%lld nsec=%lld untouched=%d\n", r.r3, SO(r), sec, nsec,
	       ((unsigned char *)&ts)[0] == 0xa5 && ((unsigned char *)&ts)[sizeof ts - 1] == 0xa5);
}

static void cmd_gtod(int with_tv, int with_tz)
{
	struct { long sec, usec; } tv = { -1, -1 };
	struct { int minw, dst; } tz = { 0x5a5a5a5a, 0x5a5a5a5a };
	uint64_t tb0 = read_tb();
	struct ret r = call(must("__kernel_gettimeofday"), with_tv ? (long)&tv : 0,
			    with_tz ? (long)&tz : 0);
	uint64_t tb1 = read_tb();
	printf("gtod rc=%ld so=%lu sec=%ld usec=%ld minw=%d dst=%d tb0=%llu tb1=%llu\n", r.r3,
	       SO(r), tv.sec, tv.usec, tz.minw, tz.dst, (unsigned long long)tb0,
	       (unsigned long long)tb1);
}

static void cmd_time(int with_ptr)
{
	long t = 0x5a5a5a5a;
	struct ret r = call(must("__kernel_time"), with_ptr ? (long)&t : 0, 0);
	printf("time rc=%ld so=%lu stored=%ld\n", r.r3, SO(r), t);
}

static void cmd_tbfreq(void)
{
	struct ret r = call(must("__kernel_get_tbfreq"), 0, 0);
	unsigned long long f = sizeof(long) == 8 ? (unsigned long long)r.r3
		: ((unsigned long long)(uint32_t)r.r3 << 32) | (uint32_t)r.r4;
	printf("tbfreq freq=%llu so=%lu\n", f, SO(r));
}

static void cmd_map(int with_count)
{
	unsigned count = 0xdeadbeef;
	struct ret r = call(must("__kernel_get_syscall_map"), with_count ? (long)&count : 0, 0);
	long off = (long)((unsigned char *)r.r3 - vvar);
	printf("map page=%ld off=%ld count=%u so=%lu\n", off / (long)page_size,
	       off % (long)page_size, count, SO(r));
}

static void cmd_getcpu(int with_ptrs)
{
	unsigned cpu = 0xdeadbeef, node = 0xdeadbeef;
	struct ret r = call(must("__kernel_getcpu"), with_ptrs ? (long)&cpu : 0,
			    with_ptrs ? (long)&node : 0);
	printf("getcpu rc=%ld so=%lu cpu=%u node=%u\n", r.r3, SO(r), cpu, node);
}

static unsigned char *code_buf;

static void put_code(int value)
{
	uint32_t *w = (uint32_t *)code_buf;
	w[0] = 0x38600000u | (value & 0xffff); /* li r3,value */
	w[1] = 0x4e800020u;                    /* blr */
}

/* icache: write "li r3,N; blr", flush, run; change N, flush an unaligned sub-range, run
 * again; then an empty range. */
static void cmd_icache(void)
{
	void *fn = must("__kernel_sync_dicache");
	if (!code_buf)
		code_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long a = (long)code_buf;
	put_code(111);
	struct ret r1 = call(fn, a, a + 8);
	long first = call(code_buf, 0, 0).r3;
	put_code(222);
	struct ret r2 = call(fn, a + 3, a + 5);
	long second = call(code_buf, 0, 0).r3;
	struct ret r3 = call(fn, a, a);
	printf("icache rc=%ld,%ld,%ld so=%lu,%lu,%lu first=%ld second=%ld\n", r1.r3, r2.r3,
	       r3.r3, SO(r1), SO(r2), SO(r3), first, second);
}

/* oddwait CLK MS: page 0's element for CLK gets an odd seq; the call must not return
 * until it is even again. */
static volatile int odd_done, odd_started;
static long odd_clk;
static void *odd_reader(void *arg)
{
	union { struct { int64_t sec, nsec; } w; struct { int32_t sec, nsec; } n; } ts;
	odd_started = 1;
	call(must("__kernel_clock_gettime"), odd_clk, (long)&ts);
	*(long long *)arg = sizeof(long) == 8 ? ts.w.sec : ts.n.sec;
	odd_done = 1;
	return NULL;
}

static void cmd_oddwait(long clk, int ms)
{
	volatile uint32_t *seq = (uint32_t *)(vvar + VDSO_DATA + (clk == 4 ? VD_SIZE : 0));
	*seq += 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	odd_done = odd_started = 0;
	odd_clk = clk;
	long long sec = 0;
	pthread_t th;
	pthread_create(&th, NULL, odd_reader, &sec);
	while (!odd_started) usleep(1000);
	usleep(ms * 1000);
	int blocked = !odd_done;
	*seq += 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	printf("oddwait blocked=%d done=%d sec=%lld\n", blocked, odd_done, sec);
}

/* regs CLK: r14, r15, r30 (r29 on ppc32), r31, r2, r13 and cr2-cr4 survive a
 * clock_gettime(CLK) call. */
#if defined(__powerpc64__)
#define CMPI "cmpdi"
#define RX "30" /* Go < 1.16 assumed the vDSO never touches r30 */
#define RX_CLOBBER "r30"
#else
#define CMPI "cmpwi"
#define RX "29" /* r30 is the PIC register of 32-bit code */
#define RX_CLOBBER "r29"
#endif
static void cmd_regs(long clk)
{
	struct { int64_t sec, nsec; } ts;
	register long r3 __asm__("r3") = clk;
	register long r4 __asm__("r4") = (long)&ts;
	register void *r12 __asm__("r12") = must("__kernel_clock_gettime");
	long bad, r2_before, r2_after, r13_before, r13_after;
	unsigned long cr_before, cr_after;
	__asm__ volatile(
		"lis 0,0x005a\n\tori 0,0,0x5000\n\tmtcrf 0x38,0\n\t"
		"mfcr %1\n\tmr %3,2\n\tmr %5,13\n\t"
		"li 14,1414\n\tli 15,1515\n\tli " RX ",3030\n\tli 31,3131\n\t"
		"mtctr 12\n\tbctrl\n\t"
		"mfcr %2\n\tmr %4,2\n\tmr %6,13\n\t"
		"li %0,0\n\t"
		CMPI " 14,1414\n\tbeq 1f\n\tori %0,%0,1\n1:\t"
		CMPI " 15,1515\n\tbeq 1f\n\tori %0,%0,2\n1:\t"
		CMPI " " RX ",3030\n\tbeq 1f\n\tori %0,%0,4\n1:\t"
		CMPI " 31,3131\n\tbeq 1f\n\tori %0,%0,8\n1:"
		: "=&r"(bad), "=&r"(cr_before), "=&r"(cr_after), "=&r"(r2_before), "=&r"(r2_after),
		  "=&r"(r13_before), "=&r"(r13_after), "+r"(r3), "+r"(r4), "+r"(r12)
		:
		: "r0", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r14", "r15", RX_CLOBBER, "r31",
		  "ctr", "lr", "cr0", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7", "xer",
		  "memory");
	unsigned long keep = 0x00fff000UL; /* cr2-cr4 */
	printf("regs bad=%ld r2=%d r13=%d cr_kept=%d\n", bad, r2_before == r2_after,
	       r13_before == r13_after, (cr_before & keep) == (cr_after & keep));
}

int main(int argc, char **argv)
{
	if (argc != 3) die("usage: harness61 IMAGE PAGE_SIZE < commands");
	page_size = strtoul(argv[2], NULL, 0);
	if (page_size != 4096 && page_size != 65536) die("page size must be 4096 or 65536");
	load(argv[1]);

	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) > 0) {
		char *cmd = strtok(line, " \n"), *arg = strtok(NULL, " \n");
		char *arg2 = strtok(NULL, " \n");
		long n = arg ? strtol(arg, NULL, 0) : 0;
		if (!cmd) continue;
		if (!strcmp(cmd, "vvar0")) { set_page(0, arg ? arg : ""); continue; }
		if (!strcmp(cmd, "vvar1")) { set_page(1, arg ? arg : ""); continue; }
		if (!strcmp(cmd, "nopage1")) {
			if (mprotect(vvar + page_size, page_size, PROT_NONE)) die("mprotect");
			continue;
		}
		if (!strcmp(cmd, "cgt")) cmd_cgt("__kernel_clock_gettime", "cgt", n, sizeof(long) == 8);
		else if (!strcmp(cmd, "cgt64")) cmd_cgt("__kernel_clock_gettime64", "cgt64", n, 1);
		else if (!strcmp(cmd, "cgtsys")) cmd_cgtsys(n);
		else if (!strcmp(cmd, "res")) cmd_res(n, 0);
		else if (!strcmp(cmd, "resnull")) cmd_res(n, 1);
		else if (!strcmp(cmd, "ressys")) cmd_ressys(n);
		else if (!strcmp(cmd, "gtod")) cmd_gtod(1, 1);
		else if (!strcmp(cmd, "gtod_nulltz")) cmd_gtod(1, 0);
		else if (!strcmp(cmd, "gtod_nulltv")) cmd_gtod(0, 1);
		else if (!strcmp(cmd, "time")) cmd_time(1);
		else if (!strcmp(cmd, "timenull")) cmd_time(0);
		else if (!strcmp(cmd, "tbfreq")) cmd_tbfreq();
		else if (!strcmp(cmd, "map")) cmd_map(1);
		else if (!strcmp(cmd, "map_null")) cmd_map(0);
		else if (!strcmp(cmd, "getcpu")) cmd_getcpu(1);
		else if (!strcmp(cmd, "getcpu_null")) cmd_getcpu(0);
		else if (!strcmp(cmd, "icache")) cmd_icache();
		else if (!strcmp(cmd, "oddwait")) cmd_oddwait(n, arg2 ? atoi(arg2) : 100);
		else if (!strcmp(cmd, "regs")) cmd_regs(n);
		else if (!strcmp(cmd, "lookup")) printf("lookup name=%s off=%ld\n", arg, lookup(arg));
		else if (!strcmp(cmd, "info"))
			printf("info vvar=%#lx text=%#lx page_size=%lu\n", (unsigned long)vvar,
			       (unsigned long)base, page_size);
		else printf("error unknown command %s\n", cmd);
		fflush(stdout);
	}
	return 0;
}
