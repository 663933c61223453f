from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'blob.c.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_stem = resolve('stem')
    l_0_target = resolve('target')
    l_0_size = resolve('size')
    l_0_sha256 = resolve('sha256')
    l_0_PREFIX = resolve('PREFIX')
    l_0_prefix = resolve('prefix')
    l_0_byte_lines = resolve('byte_lines')
    l_0_symbols = resolve('symbols')
    l_0_cpus = resolve('cpus')
    l_0_datapage_sym = resolve('datapage_sym')
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
    yield str((undefined(name='size') if l_0_size is missing else l_0_size))
    yield ' bytes, sha256 '
    yield str((undefined(name='sha256') if l_0_sha256 is missing else l_0_sha256))
    yield '),\n * its exported symbols and per-CPU .dynsym patch tables; see '
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield '-blob.h.\n */\n#include "'
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield '-blob.h"\n\n_Alignas('
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGE_SIZE) const unsigned char '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_image['
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_MAPPED_SIZE] = {\n'
    for l_1_line in (undefined(name='byte_lines') if l_0_byte_lines is missing else l_0_byte_lines):
        _loop_vars = {}
        pass
        yield '\t'
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '};\n\nconst struct vdsotool_symbol '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_symbols['
    yield str(t_1((undefined(name='symbols') if l_0_symbols is missing else l_0_symbols)))
    yield '] = {\n'
    for l_1_sym in (undefined(name='symbols') if l_0_symbols is missing else l_0_symbols):
        _loop_vars = {}
        pass
        yield '\t{ "'
        yield str(environment.getattr(l_1_sym, 'name'))
        yield '", '
        yield str(('%#x' % environment.getattr(l_1_sym, 'value')))
        yield ' },\n'
    l_1_sym = missing
    yield '};\n\n'
    def t_2(fiter):
        for l_1_cpu in fiter:
            if environment.getattr(l_1_cpu, 'changes'):
                yield l_1_cpu
    for l_1_cpu in t_2((undefined(name='cpus') if l_0_cpus is missing else l_0_cpus)):
        _loop_vars = {}
        pass
        yield '/* '
        yield str(environment.getattr(l_1_cpu, 'name'))
        yield ': '
        yield str(t_1(environment.getattr(l_1_cpu, 'changes')))
        yield ' change(s)'
        for l_2_note in environment.getattr(l_1_cpu, 'notes'):
            _loop_vars = {}
            pass
            yield '; '
            yield str(l_2_note)
        l_2_note = missing
        yield ' */\nstatic const struct vdsotool_patch '
        yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
        yield '_patches_'
        yield str(environment.getattr(l_1_cpu, 'c_name'))
        yield '['
        yield str(t_1(environment.getattr(l_1_cpu, 'changes')))
        yield '] = {\n'
        for l_2_ch in environment.getattr(l_1_cpu, 'changes'):
            _loop_vars = {}
            pass
            yield '\t{ '
            yield str(('%#x' % environment.getattr(l_2_ch, 'offset')))
            yield ', '
            yield str(environment.getattr(l_2_ch, 'size'))
            yield ', { '
            yield str(environment.getattr(l_2_ch, 'old'))
            yield ' }, { '
            yield str(environment.getattr(l_2_ch, 'new'))
            yield ' }, '
            yield str(environment.getattr(l_2_ch, 'index'))
            yield ', '
            yield str(environment.getattr(l_2_ch, 'symbol'))
            yield ', "'
            yield str(environment.getattr(l_2_ch, 'field'))
            yield '" },\n'
        l_2_ch = missing
        yield '};\n\n'
    l_1_cpu = missing
    yield 'const struct vdsotool_cpu_patches '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_cpu_patches['
    yield str(t_1((undefined(name='cpus') if l_0_cpus is missing else l_0_cpus)))
    yield '] = {\n'
    for l_1_cpu in (undefined(name='cpus') if l_0_cpus is missing else l_0_cpus):
        _loop_vars = {}
        pass
        yield '\t{ '
        yield str(environment.getattr(l_1_cpu, 'literal'))
        yield ', '
        yield str(('%#010x' % environment.getattr(l_1_cpu, 'pvr_mask')))
        yield ', '
        yield str(('%#010x' % environment.getattr(l_1_cpu, 'pvr_value')))
        yield ', '
        yield str(('%#018x' % environment.getattr(l_1_cpu, 'features')))
        yield 'ULL, '
        yield str(t_1(environment.getattr(l_1_cpu, 'changes')))
        yield ', '
        if environment.getattr(l_1_cpu, 'changes'):
            pass
            yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
            yield '_patches_'
            yield str(environment.getattr(l_1_cpu, 'c_name'))
        else:
            pass
            yield '0'
        yield ' },\n'
    l_1_cpu = missing
    yield '};\n\nconst struct vdsotool_image '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_blob = {\n\t'
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_image,\n\t'
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_IMAGE_SIZE,\n\t'
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGE_SIZE,\n\t'
    yield str((undefined(name='PREFIX') if l_0_PREFIX is missing else l_0_PREFIX))
    yield '_PAGES,\n\t'
    yield str((undefined(name='datapage_sym') if l_0_datapage_sym is missing else l_0_datapage_sym))
    yield ',\t/* __kernel_datapage_offset */\n\t'
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_symbols,\n\t'
    yield str(t_1((undefined(name='symbols') if l_0_symbols is missing else l_0_symbols)))
    yield ',\n\t'
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_cpu_patches,\n\t'
    yield str(t_1((undefined(name='cpus') if l_0_cpus is missing else l_0_cpus)))
    yield ',\n};\n'

blocks = {}
debug_info = '3=28&4=36&6=38&8=40&9=46&10=50&14=54&15=58&16=62&20=68&21=76&22=87&23=93&24=97&29=115&30=119&31=123&35=144&36=146&37=148&38=150&39=152&40=154&41=156&42=158&43=160&44=162'