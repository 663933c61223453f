"""ELF constants and their names: the numbers of the gABI, GNU's extensions and the PowerPC
processor supplements, each written once.

Numbers from the System V gABI (``e_ident``, ``e_type``, section, segment, symbol and
dynamic-tag values), the GNU extensions (``SHT_GNU_*``, ``DT_GNU_HASH``, versioning,
``NT_GNU_*``) and the PowerPC ELF ABI supplements (``EM_PPC``/``EM_PPC64``, ``DT_PPC_*``,
``DT_PPC64_*``, ``EF_PPC64_ABI``). One table per concept, consumed by the linker's writers,
the reader and the printers alike; names drop the table's prefix (``PT_LOAD`` is "LOAD",
as readelf prints it).
"""

from __future__ import annotations

# --- e_ident ---------------------------------------------------------------------------
ELFMAG = b"\x7fELF"
EI_CLASS, EI_DATA, EI_VERSION, EI_OSABI, EI_ABIVERSION, EI_NIDENT = 4, 5, 6, 7, 8, 16
ELFCLASSNONE, ELFCLASS32, ELFCLASS64 = 0, 1, 2
ELFDATANONE, ELFDATA2LSB, ELFDATA2MSB = 0, 1, 2
EV_NONE, EV_CURRENT = 0, 1
ELFOSABI_NONE = 0

# --- e_type, e_machine, e_flags --------------------------------------------------------
ET_NONE, ET_REL, ET_EXEC, ET_DYN, ET_CORE = 0, 1, 2, 3, 4
EM_NONE, EM_386, EM_PPC, EM_PPC64, EM_X86_64, EM_AARCH64 = 0, 3, 20, 21, 62, 183
EF_PPC64_ABI = 3  # e_flags bits 0-1 of an ELF64 PowerPC file: ELF ABI version (0: unset, 1, 2)

# --- section header index values, section types and flags ------------------------------
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_HASH = 5
SHT_DYNAMIC = 6
SHT_NOTE = 7
SHT_NOBITS = 8
SHT_REL = 9
SHT_SHLIB = 10
SHT_DYNSYM = 11
SHT_INIT_ARRAY = 14
SHT_FINI_ARRAY = 15
SHT_PREINIT_ARRAY = 16
SHT_GROUP = 17
SHT_SYMTAB_SHNDX = 18
SHT_GNU_HASH = 0x6FFFFFF6
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_MERGE = 0x10
SHF_STRINGS = 0x20
SHF_INFO_LINK = 0x40
SHF_LINK_ORDER = 0x80
SHF_GROUP = 0x200
SHF_TLS = 0x400
# readelf's flag letters, in its order, for the flags a vDSO's sections carry
SHF_LETTERS = (("W", SHF_WRITE), ("A", SHF_ALLOC), ("X", SHF_EXECINSTR))

# --- program headers -------------------------------------------------------------------
PT_NULL = 0
PT_LOAD = 1
PT_DYNAMIC = 2
PT_INTERP = 3
PT_NOTE = 4
PT_SHLIB = 5
PT_PHDR = 6
PT_TLS = 7
PT_GNU_EH_FRAME = 0x6474E550
PT_GNU_STACK = 0x6474E551
PT_GNU_RELRO = 0x6474E552
PT_GNU_PROPERTY = 0x6474E553

PF_X, PF_W, PF_R = 0x1, 0x2, 0x4

# --- symbols ---------------------------------------------------------------------------
STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 0, 1, 2, 10
STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_SECTION = 3
STT_FILE = 4
STT_COMMON = 5
STT_TLS = 6
STT_GNU_IFUNC = 10
STV_DEFAULT, STV_INTERNAL, STV_HIDDEN, STV_PROTECTED = 0, 1, 2, 3


def st_info(bind: int, stype: int) -> int:
    """``ELF_ST_INFO``: binding in the high nibble, type in the low one."""
    return bind << 4 | stype & 0xF


# --- dynamic tags ----------------------------------------------------------------------
DT_NULL = 0
DT_NEEDED = 1
DT_PLTRELSZ = 2
DT_PLTGOT = 3
DT_HASH = 4
DT_STRTAB = 5
DT_SYMTAB = 6
DT_RELA = 7
DT_RELASZ = 8
DT_RELAENT = 9
DT_STRSZ = 10
DT_SYMENT = 11
DT_INIT = 12
DT_FINI = 13
DT_SONAME = 14
DT_RPATH = 15
DT_SYMBOLIC = 16
DT_REL = 17
DT_RELSZ = 18
DT_RELENT = 19
DT_PLTREL = 20
DT_DEBUG = 21
DT_TEXTREL = 22
DT_JMPREL = 23
DT_BIND_NOW = 24
DT_INIT_ARRAY = 25
DT_FINI_ARRAY = 26
DT_INIT_ARRAYSZ = 27
DT_FINI_ARRAYSZ = 28
DT_RUNPATH = 29
DT_FLAGS = 30
DT_PREINIT_ARRAY = 32
DT_PREINIT_ARRAYSZ = 33
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM = 0x6FFFFFF0
DT_RELACOUNT = 0x6FFFFFF9
DT_RELCOUNT = 0x6FFFFFFA
DT_FLAGS_1 = 0x6FFFFFFB
DT_VERDEF = 0x6FFFFFFC
DT_VERDEFNUM = 0x6FFFFFFD
DT_VERNEED = 0x6FFFFFFE
DT_VERNEEDNUM = 0x6FFFFFFF
# Processor-specific tags: the same numbers mean different things per e_machine.
DT_PPC_GOT = 0x70000000
DT_PPC_OPT = 0x70000001
DT_PPC64_GLINK = 0x70000000
DT_PPC64_OPD = 0x70000001
DT_PPC64_OPDSZ = 0x70000002
DT_PPC64_OPT = 0x70000003

# --- symbol versioning (GNU) -----------------------------------------------------------
VER_DEF_NONE, VER_DEF_CURRENT = 0, 1
VER_FLG_BASE, VER_FLG_WEAK = 0x1, 0x2
VER_NDX_LOCAL, VER_NDX_GLOBAL = 0, 1  # .gnu.version: 0 local, 1 unversioned global
VERSYM_HIDDEN = 0x8000  # .gnu.version: the version is hidden (not the default)
VERSYM_VERSION = 0x7FFF  # .gnu.version: the index part

# --- notes -----------------------------------------------------------------------------
NT_GNU_ABI_TAG = 1
NT_GNU_HWCAP = 2
NT_GNU_BUILD_ID = 3
NT_GNU_GOLD_VERSION = 4
NT_GNU_PROPERTY_TYPE_0 = 5
NT_LINUX_VERSION = 0  # owner "Linux": one word, LINUX_VERSION_CODE (the vDSO's note)
NT_LINUX_BUILD_SALT = 0x100  # owner "Linux": CONFIG_BUILD_SALT, a NUL-terminated string


# --- names -----------------------------------------------------------------------------

def _names(prefix: str, *, within: str = "", skip: tuple[str, ...] = ()) -> dict[int, str]:
    """Value -> name without ``prefix`` of this module's constants named ``prefix…`` (only
    those named ``within…`` when given, none named ``skip…``)."""
    return {v: k[len(prefix):] for k, v in globals().items()
            if k.startswith(within or prefix) and isinstance(v, int) and not k.startswith(skip)}


ET_NAMES = _names("ET_")
EM_NAMES = _names("EM_")
SHT_NAMES = _names("SHT_")
PT_NAMES = _names("PT_")
STB_NAMES = _names("STB_")
STT_NAMES = _names("STT_")
STV_NAMES = _names("STV_")
DT_NAMES = _names("DT_", skip=("DT_PPC",))
DT_PROC_NAMES = {EM_PPC: _names("DT_", within="DT_PPC_"),
                 EM_PPC64: _names("DT_", within="DT_PPC64_")}
NT_GNU_NAMES = _names("NT_GNU_")


def dt_name(tag: int, machine: int) -> str | None:
    """readelf's name of a dynamic tag (without ``DT_``) in a file of ``machine``; None for
    a tag without one."""
    return DT_NAMES.get(tag) or DT_PROC_NAMES.get(machine, {}).get(tag)
