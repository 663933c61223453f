from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'blob.h.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_stem = resolve('stem')
    l_0_target = resolve('target')
    l_0_soname = resolve('soname')
    l_0_size = resolve('size')
    l_0_pages = resolve('pages')
    l_0_page_size = resolve('page_size')
    l_0_prefix = resolve('prefix')
    l_0_PREFIX = resolve('PREFIX')
    l_0_symbols = resolve('symbols')
    l_0_cpus = resolve('cpus')
    l_0_datapage_header = resolve('datapage_header')
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    pass
    yield '/* AUTOMATICALLY GENERATED -- DO NOT EDIT\n *\n * '
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield ': the '
    yield str((undefined(name='target') if l_0_target is missing else l_0_target))
    yield ' vDSO image ('
    yield str((undefined(name='soname') if l_0_soname is missing else l_0_soname))
    yield '), '
    yield str((undefined(name='size') if l_0_size is missing else l_0_size))
    yield ' bytes, embedded by\n * vdsotool as a page-aligned array of '
    yield str((undefined(name='pages') if l_0_pages is missing else l_0_pages))
    yield ' page(s) of '
    yield str((undefined(name='page_size') if l_0_page_size is missing else l_0_page_size))
    yield " bytes, with the\n * offsets of its exported symbols and the .dynsym patch table of each CPU whose kernel\n * maps it. The image is linked at 0: a symbol's offset is its address in the mapping.\n *\n * At boot: copy "
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_image into the pages to map, apply the patch table of the\n * running CPU (the first entry of '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield "_cpu_patches whose (PVR & pvr_mask) ==\n * pvr_value, as the cputable is searched; memcpy each entry's new_bytes to offset;\n * old_bytes are what must be there before), then store the 32-bit word\n *   "
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGES * '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGE_SIZE - '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_SYM___kernel_datapage_offset\n * at offset '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield "_SYM___kernel_datapage_offset: the data page is mapped right after\n * the image's pages.\n */\n#ifndef VDSOTOOL_"
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_BLOB_H\n#define VDSOTOOL_'
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_BLOB_H\n\n#define '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_IMAGE_SIZE '
    yield str((undefined(name='size') if l_0_size is missing else l_0_size))
    yield '\n#define '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGE_SIZE '
    yield str((undefined(name='page_size') if l_0_page_size is missing else l_0_page_size))
    yield '\n#define '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGES '
    yield str((undefined(name='pages') if l_0_pages is missing else l_0_pages))
    yield '\n#define '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_MAPPED_SIZE ('
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGES * '
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGE_SIZE)\n\n/* Offsets of the exported symbols (.dynsym st_value). */\n'
    for l_1_sym in (undefined(name='symbols') if l_0_symbols is missing else l_0_symbols):
        _loop_vars = {}
        pass
        yield '#define '
        yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
        yield '_SYM_'
        yield str(environment.getattr(l_1_sym, 'name'))
        yield ' '
        yield str(('%#x' % environment.getattr(l_1_sym, 'value')))
        yield '\n'
    l_1_sym = missing
    yield "\n#ifndef VDSOTOOL_PATCH_TYPES\n#define VDSOTOOL_PATCH_TYPES\n/* One changed field of one .dynsym entry. */\nstruct vdsotool_patch {\n\tunsigned int offset;\t\t/* file offset in the image */\n\tunsigned int size;\t\t/* bytes changed: 1, 2, 4 or 8 */\n\tunsigned char old_bytes[8];\t/* what is there before (first size bytes) */\n\tunsigned char new_bytes[8];\t/* what the CPU's kernel writes */\n\tunsigned int dynsym_index;\n\tconst char *symbol;\n\tconst char *field;\t\t/* st_name, st_value, st_size, ... */\n};\n\n/* A CPU (matched by (PVR & pvr_mask) == pvr_value) and its patch table. */\nstruct vdsotool_cpu_patches {\n\tconst char *name;\n\tunsigned int pvr_mask;\n\tunsigned int pvr_value;\n\tunsigned long long cpu_features;\t/* the kernel's CPU_FTR_* bits */\n\tunsigned int count;\n\tconst struct vdsotool_patch *patches;\t/* NULL when count is 0 */\n};\n\nstruct vdsotool_symbol {\n\tconst char *name;\n\tunsigned long offset;\n};\n\n/* Everything about one embedded image (cf. the kernel's struct vdso_image). */\nstruct vdsotool_image {\n\tconst unsigned char *data;\t\t/* pages * page_size bytes */\n\tunsigned long size;\t\t\t/* bytes of the ELF image */\n\tunsigned long page_size;\n\tunsigned long pages;\n\tlong datapage_offset_sym;\t\t/* -1: no __kernel_datapage_offset */\n\tconst struct vdsotool_symbol *symbols;\n\tunsigned int symbol_count;\n\tconst struct vdsotool_cpu_patches *cpus;\n\tunsigned int cpu_count;\n};\n#endif\n\nextern const unsigned char "
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_image['
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_MAPPED_SIZE];\nextern const struct vdsotool_symbol '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_symbols['
    yield str(t_1((undefined(name='symbols') if l_0_symbols is missing else l_0_symbols)))
    yield '];\nextern const struct vdsotool_cpu_patches '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_cpu_patches['
    yield str(t_1((undefined(name='cpus') if l_0_cpus is missing else l_0_cpus)))
    yield '];\nextern const struct vdsotool_image '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_blob;\n\n#ifndef __KERNEL__\n/* The data page the image reads (user-space view; a kernel has its own definition). */\n'
    yield str((undefined(name='datapage_header') if l_0_datapage_header is missing else l_0_datapage_header))
    yield '\n#endif\n\n#endif /* VDSOTOOL_'
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_BLOB_H */\n'

blocks = {}
debug_info = '3=29&4=37&8=41&9=43&12=45&13=51&16=53&17=55&19=57&20=61&21=65&22=69&25=75&26=79&71=87&72=91&73=95&74=99&78=101&81=103'