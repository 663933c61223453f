"""``.eh_frame`` from the assembler's frame descriptions: CIE and FDE records.

Record layout (``.eh_frame`` dialect of DWARF CFI; all fields in the image's byte order)::

    CIE: u32 length, u32 id (0), u8 version (1), augmentation "zR" ("zRS" for a signal
         frame), uleb code_align (4), sleb data_align (-4 on ppc32, -8 on ppc64),
         u8 return-address column (65 = LR unless .cfi_return_column), uleb aug length (1),
         u8 FDE pointer encoding 0x1b (pcrel|sdata4), initial instructions
         DW_CFA_def_cfa r1, 0 (what GNU as puts in every PowerPC CIE)
    FDE: u32 length, u32 CIE pointer (distance back to its CIE), s32 pc_begin (pcrel),
         u32 pc_range, uleb aug length (0), instructions

Each record is padded with DW_CFA_nop to a multiple of 4 bytes, as GNU as emits it.
Records that need the same CIE share it (GNU ld merges identical CIEs); a CIE is written
just before the first FDE that uses it. There is no zero terminator: GNU ld adds none (in
programs it comes from crtend.o, which a vDSO does not link); the unwinder stops at the
section end it gets from ``.eh_frame_hdr``/PT_GNU_EH_FRAME.
Instruction offsets become ``DW_CFA_advance_loc*`` deltas (cfi/encode.py picks the form).

Only ``pc_begin`` depends on addresses, and its field has a fixed size: the records are
encoded once, before the layout, and the placed chunk writes the ``pc_begin`` fields in.
"""

from __future__ import annotations

from vdsotool.abi.dwarf_regs import DEFAULT_RETURN_COLUMN, GPRS
from vdsotool.abi.targets import Target
from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.cfi.encode import CfiEncoding, encode_program, sleb128, uleb128
from vdsotool.link.chunk import Chunk, s32
from vdsotool.util.records import field, record

R1 = GPRS[1]  # the stack pointer: every CIE's CFA register
PCREL_SDATA4 = D.DW_EH_PE_pcrel | D.DW_EH_PE_sdata4  # the FDE pointer encoding GNU as picks


@record(frozen=True)
class FrameRecord:
    """One FDE to write: its code range's length and program."""

    pc_range: int
    # (offset from pc_begin at which it takes effect, instruction), in order
    instructions: list[tuple[int, M.Instr]] = field(default_factory=list)
    signal_frame: bool = False
    return_column: int | None = None
    simple: bool = False  # ".cfi_startproc simple": no initial def_cfa in the CIE


def _pad4(body: bytes) -> bytes:
    return body + bytes(-(len(body) + 4) % 4)  # DW_CFA_nop is 0; +4: the length word


def cie_body(target: Target, rec: FrameRecord) -> bytes:
    enc = CfiEncoding.for_target(target)
    aug = b"zRS" if rec.signal_frame else b"zR"
    initial = b"" if rec.simple else encode_program([M.DefCfa(R1, 0)], enc)
    body = (bytes(4) + bytes([1]) + aug + b"\0" + uleb128(4) + sleb128(-target.wordsize)
            + bytes([rec.return_column or DEFAULT_RETURN_COLUMN]) + uleb128(1) + bytes([PCREL_SDATA4])
            + initial)
    return _pad4(body)


def fde_program(target: Target, rec: FrameRecord) -> bytes:
    enc = CfiEncoding.for_target(target)
    program, at = [], 0
    for offset, instr in rec.instructions:
        if offset != at:
            program.append(M.AdvanceLoc(offset - at))
            at = offset
        program.append(instr)
    return encode_program(program, enc)


class EhFrame(Chunk):
    """The section for ``records`` in FDE order; ``anchors[i]`` is where record i's code
    starts: (input section key, offset in it), read back from the image's placement."""

    def __init__(self, target: Target, records: list[FrameRecord],
                 anchors: list[tuple[tuple[int, str], int]] = ()) -> None:
        word = target.elf.word
        out = bytearray()
        cies: dict[bytes, int] = {}  # CIE body -> its offset in the section
        self.fde_offsets = []
        for rec in records:
            cie = cie_body(target, rec)
            if cie not in cies:
                cies[cie] = len(out)
                out += word.pack(len(cie)) + cie
            self.fde_offsets.append(len(out))
            body = _pad4(word.pack(len(out) + 4 - cies[cie]) + bytes(4) + word.pack(rec.pc_range)
                         + uleb128(0) + fde_program(target, rec))
            out += word.pack(len(body)) + body
        super().__init__(".eh_frame", len(out), 4)
        self.word, self.encoded, self.anchors = word, bytes(out), list(anchors)

    def write_at(self, address: int, pc_begins: list[int], script: str = "") -> bytes:
        """The bytes at ``address``, FDE i covering code from ``pc_begins[i]``; ``script``
        is blamed for code too far away for the 32-bit pc-relative field."""
        data = bytearray(self.encoded)
        for at, pc in zip(self.fde_offsets, pc_begins):
            data[at + 8:at + 12] = self.word.pack(s32(pc - (address + at + 8), script,
                                                      "an FDE's pc_begin"))
        return bytes(data)

    def pc_begins(self, image) -> list[int]:
        return [image.input_address[key] + start for key, start in self.anchors]

    def fdes(self, image) -> list[tuple[int, int]]:
        """(pc_begin, address of the FDE) of every FDE, for ``.eh_frame_hdr``."""
        address = image.address[self.name]
        return [(pc, address + at) for pc, at in zip(self.pc_begins(image), self.fde_offsets)]

    def write(self, image) -> bytes:
        return self.write_at(image.address[self.name], self.pc_begins(image), image.script.path)
