from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'wrapper.S.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_stem = resolve('stem')
    l_0_target = resolve('target')
    l_0_bits = resolve('bits')
    l_0_prefix = resolve('prefix')
    l_0_page_size = resolve('page_size')
    pass
    yield '/* AUTOMATICALLY GENERATED -- DO NOT EDIT\n *\n * '
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield ': embeds the '
    yield str((undefined(name='target') if l_0_target is missing else l_0_target))
    yield " vDSO image with .incbin between page-aligned labels,\n * like the kernel's vdso"
    yield str((undefined(name='bits') if l_0_bits is missing else l_0_bits))
    yield '_wrapper.S; assemble with -I <directory of '
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield '.so>.\n * '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_end - '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_start is a whole number of '
    yield str((undefined(name='page_size') if l_0_page_size is missing else l_0_page_size))
    yield '-byte pages.\n */\n\t.section ".data..page_aligned", "aw"\n\n\t.globl '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_start, '
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_end\n\t.balign '
    yield str((undefined(name='page_size') if l_0_page_size is missing else l_0_page_size))
    yield '\n'
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_start:\n\t.incbin "'
    yield str((undefined(name='stem') if l_0_stem is missing else l_0_stem))
    yield '.so"\n\t.balign '
    yield str((undefined(name='page_size') if l_0_page_size is missing else l_0_page_size))
    yield '\n'
    yield str((undefined(name='prefix') if l_0_prefix is missing else l_0_prefix))
    yield '_end:\n\n\t.section .note.GNU-stack, "", @progbits\n'

blocks = {}
debug_info = '3=17&4=21&5=25&9=31&10=35&11=37&12=39&13=41&14=43'