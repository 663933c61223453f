/*
 * Code path length probe for `make bench`: maps a vDSO image with a data page right after
 * it (as the 2005 kernel did), patches __kernel_datapage_offset, fills the data page so
 * __kernel_gettimeofday takes its fast path, calls one exported function once and prints
 * the image's load range and the result. Every function is called as f(scratch, NULL):
 * gettimeofday(tv, tz=NULL), get_syscall_map(&count), sync_dicache_p5 (ignores both). Run under `qemu-ppc* -singlestep -d exec,nochain`, every logged translation
 * block is one guest instruction; the benchmark counts those inside the image's range.
 *
 * usage: pathlen IMAGE FUNCTION TB_ORIG_OFF TB_TO_XS_OFF STAMP_XSEC_OFF COUNT_OFF
 * (data-page offsets come from vdsotool.abi.datapage, never typed here)
 */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#if defined(__powerpc64__)
typedef Elf64_Ehdr Ehdr; typedef Elf64_Shdr Shdr; typedef Elf64_Sym Sym;
#else
typedef Elf32_Ehdr Ehdr; typedef Elf32_Shdr Shdr; typedef Elf32_Sym Sym;
#endif

#define PAGE 4096UL

static uint64_t timebase(void)
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
	return ((uint64_t)hi << 32) | lo;
#endif
}

static const Sym *find_symbol(const unsigned char *img, const char *name)
{
	const Ehdr *eh = (const Ehdr *)img;
	const Shdr *sh = (const Shdr *)(img + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const Sym *syms = (const Sym *)(img + sh[i].sh_offset);
		const char *str = (const char *)img + sh[sh[i].sh_link].sh_offset;
		for (size_t k = 1; k < sh[i].sh_size / sizeof(Sym); k++)
			if (syms[k].st_name && strcmp(str + syms[k].st_name, name) == 0)
				return &syms[k];
	}
	return NULL;
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8); /* native byte order, as the kernel writes it */
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: %s IMAGE FUNCTION TB_ORIG TB_TO_XS STAMP_XSEC COUNT\n", argv[0]);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) { perror(argv[1]); return 1; }
	size_t pages = (st.st_size + PAGE - 1) / PAGE;
	unsigned char *base = mmap(NULL, (pages + 1) * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) { perror("mmap"); return 1; }
	if (read(fd, base, st.st_size) != st.st_size) { perror("read"); return 1; }

	const Sym *dpo = find_symbol(base, "__kernel_datapage_offset");
	const Sym *fn = find_symbol(base, argv[2]);
	if (!dpo || !fn) { fprintf(stderr, "symbol not found\n"); return 1; }
	uint32_t word = pages * PAGE - dpo->st_value;
	memcpy(base + dpo->st_value, &word, 4);

	unsigned char *dp = base + pages * PAGE;
	put64(dp + strtoul(argv[3], 0, 0), timebase());
	put64(dp + strtoul(argv[4], 0, 0), 0x008637BD05AF6C69ULL); /* 2^84 / 512 MHz */
	put64(dp + strtoul(argv[5], 0, 0), 1100000000ULL << 20);
	put64(dp + strtoul(argv[6], 0, 0), 0);
	__builtin___clear_cache((char *)base, (char *)dp);

	void *entry = base + fn->st_value;
#if defined(__powerpc64__) && (!defined(_CALL_ELF) || _CALL_ELF == 1)
	static void *desc[3];
	desc[0] = entry;
	entry = desc; /* ELFv1: call through a function descriptor built at run time */
#endif
	static uint64_t scratch[64]; /* a struct timeval or a syscall-map count */
	long r = ((long (*)(void *, void *))entry)(scratch, NULL);
	printf("range %#lx %#lx result %#lx\n", (unsigned long)base,
	       (unsigned long)(base + pages * PAGE), (unsigned long)r);
	return 0;
}
