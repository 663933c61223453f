/*
 * The harness's driver: load a vDSO image into executable memory and report checks.
 *
 *   harness unwind    IMAGE LAYOUT TRAMP_OFF EH_FRAME_OFF EH_FRAME_END VEC   (unwind.c)
 *   harness sigreturn IMAGE LAYOUT TRAMP_OFF                                  (sigreturn.c)
 *
 * The image is linked at 0 with one PT_LOAD whose file offsets equal its addresses, so a
 * copy of the file at any page-aligned base is the image as the kernel maps it (its
 * .eh_frame is position independent: pcrel pointers).  LAYOUT names a struct
 * frame_layout of the generated sigframe_layout.h; offsets come from the test, which reads
 * them from the image's .dynsym and section headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

static int failures;
static int checks;

const struct frame_layout *find_layout(const char *name)
{
	for (size_t i = 0; i < sizeof(frame_layouts) / sizeof(frame_layouts[0]); i++)
		if (strcmp(frame_layouts[i].name, name) == 0)
			return &frame_layouts[i];
	fprintf(stderr, "no frame layout %s\n", name);
	exit(2);
}

word parse_number(const char *text)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "not a number: %s\n", text);
		exit(2);
	}
	return (word)v;
}

/* The first copy_len bytes of the file (0: all of it) in a fresh RWX mapping; the rest
 * of the mapping is zero. */
unsigned char *map_image(const char *path, size_t copy_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	size_t size = 1 << 20;
	unsigned char *base = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	size_t got = fread(base, 1, size, f);
	fclose(f);
	if (copy_len == 0)
		copy_len = got;
	if (got < copy_len) {
		fprintf(stderr, "%s: %zu bytes, need %zu\n", path, got, copy_len);
		exit(2);
	}
	memset(base + copy_len, 0, size - copy_len);
	__builtin___clear_cache((char *)base, (char *)base + copy_len);
	return base;
}

void check(const char *what, uint64_t got, uint64_t want)
{
	checks++;
	if (got == want) {
		printf("ok %s\n", what);
		return;
	}
	failures++;
	printf("FAIL %s: got 0x%llx want 0x%llx\n", what, (unsigned long long)got,
	       (unsigned long long)want);
}

void note(const char *what, uint64_t value)
{
	printf("note %s 0x%llx\n", what, (unsigned long long)value);
}

int finish(void)
{
	printf("%d checks, %d failed\n", checks, failures);
	fflush(stdout);
	exit(failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "unwind") == 0)
		return unwind_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sigreturn") == 0)
		return sigreturn_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: harness unwind|sigreturn ...\n");
	return 2;
}
