import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import MCEKit

/// mce-inject's input language: what each term sets, checked against the values mce-inject's own
/// scanner and grammar give (mce.lex's keyword values, mce.y's actions), with records shaped like
/// the files in its test/ directory.
@Suite struct MCEInjectFileTests {
    func parse(_ text: String) throws -> [MCEInjectFile.Record] { try MCEInjectFile.parse(text, source: "test") }

    @Test func twoCorrectedRecordsOnTwoCPUs() throws {
        let records = try parse(
            """
            #
            # two corrected machine checks
            CPU 0 BANK 1
            STATUS CORRECTED
            ADDR 0xabcd
            #
            CPU 1 BANK 2
            STATUS CORRECTED
            ADDR 0x1234
            """)
        #expect(records.count == 2)
        #expect(records.map(\.cpu) == [0, 1] && records.map(\.bank) == [1, 2])
        // CORRECTED is VAL|EN; ADDR adds ADDRV.
        #expect(records.map(\.status) == [0x9400_0000_0000_0000, 0x9400_0000_0000_0000])
        #expect(records.map(\.addr) == [0xabcd, 0x1234] && records.map(\.line) == [3, 7])
        #expect(!records[0].raisesException && !records[0].broadcasts)
    }

    @Test func statusAndMCGStatusTermsAreORedAsMceInjectValuesThem() throws {
        let yellow = try #require(try parse("CPU 0 BANK 3\nMCGSTATUS TES_P\nSTATUS CORRECTED TES_YELLOW").first)
        #expect(yellow.mcgStatus == 0x800 && yellow.status == 0x9040_0000_0000_0000)
        let fatal = try #require(try parse("CPU 0\nSTATUS fatal\nRIP 12343434").first)
        #expect(
            fatal.status == 0xB200_0000_0000_0000 && fatal.ip == 12_343_434 && fatal.raisesException && fatal.broadcasts
        )
        let seam = try #require(
            try parse(
                """
                CPU 0 BANK 1
                MCGSTATUS RIPV EIPV MCIP LMCES SEAM_NR
                NOBROADCAST
                STATUS UNCORRECTED AR S 0x134
                ADDR 0x1234
                MISC 0x8
                RIP 0xdeadbabe
                """
            ).first)
        #expect(seam.mcgStatus == 0x100F)
        #expect(seam.status == 0xBD80_0000_0000_0134, "VAL UC EN AR S | 0x134, then ADDRV and MISCV")
        #expect(seam.flags == ["NOBROADCAST"] && seam.raisesException && !seam.broadcasts)
        // SRAO is S, SRAR is S|AR, UCNA adds nothing; numbers: 0x hex, 0-led octal, decimal.
        let srar = try #require(
            try parse("MCE STATUS UC EN VAL SRAR UCNA 010 BANK 2 CPU 3 STATUS SRAO 0x10 BANK 1").first)
        #expect(srar.status == 0xB180_0000_0000_0008 && srar.cpu == 0)
        #expect(
            try parse("MCE STATUS UC EN VAL SRAR UCNA 010 BANK 2 CPU 3 STATUS SRAO 0x10 BANK 1").last?.status
                == 0x0100_0000_0000_0010)
    }

    @Test func everyOtherTermAndTheKernelPanicLine() throws {
        let record = try #require(
            try parse(
                """
                cpu 2 4 tsc 0x10 time 1700000000 socketid 1 apicid 5 mcgcap 0x1000c14 processor 2:0x60fb1
                rip 0x10:<0xffffffff81000000> {do_idle} hold in_irq poll
                """
            ).first)
        #expect(record.cpu == 2 && record.bank == 4 && record.tsc == 0x10 && record.time == 1_700_000_000)
        #expect(
            record.socketID == 1 && record.apicID == 5 && record.mcgCap == 0x1000c14 && record.cpuVendor == 2
                && record.cpuID == 0x60fb1)
        #expect(
            record.cs == 0x10 && record.ip == 0xffff_ffff_8100_0000 && record.flags == ["HOLD", "IN_IRQ", "POLL"]
                && record.isHeld)
        let panic = try #require(
            try parse("CPU 1: Machine Check Exception: 5 Bank 4: 0xb200000000000000\nADDR 0x3000").first)
        #expect(panic.cpu == 1 && panic.mcgStatus == 5 && panic.bank == 4 && panic.status == 0xB600_0000_0000_0000)
        #expect(try parse("CPU 1 RIP 0x33:0x401000").first?.cs == 0x33)
    }

    @Test func theDumpIsMceInjectsDump() throws {
        let record = try #require(
            try parse("CPU 1 BANK 2 STATUS CORRECTED ADDR 0x1234 RIP 0x10:0x400 PROCESSOR 0:0x206a7").first)
        #expect(
            record.dump == """
                CPU 1
                BANK 2
                TSC 0x0
                TIME 0
                RIP 0x10:0x400
                MISC 0x0
                ADDR 0x1234
                STATUS 0x9400000000000000
                MCGSTATUS 0x0
                PROCESSOR 0:0x206a7
                """)
        #expect(try parse("MCE BANK 1").first?.dump.contains("RIP 0x00:0x0") == true)
    }

    @Test func errorsNameTheFileTheLineAndTheFix() {
        func message(_ text: String) -> String {
            do {
                _ = try parse(text)
                return ""
            } catch let error as BackendError { return error.message } catch { return "\(error)" }
        }
        // mce-inject's grammar has no MCG flag inside STATUS (its own test/uncorrected trips on it).
        #expect(
            message("CPU 0 BANK 1\nSTATUS uncorrected EIPV")
                == "test:2: EIPV is an MCGSTATUS term, not a STATUS one: write MCGSTATUS EIPV")
        #expect(message("CPU 0\nCPU 1 BANK 2") == "test:1: the record has no terms (STATUS, BANK, ADDR, ...)")
        #expect(message("STATUS 1").hasPrefix("test:1: a record starts with CPU n, MCE"))
        #expect(message("CPU 0 BANK 1 STATUS CORRECTED\nBOGUS 3") == "test:2: unknown word BOGUS")
        #expect(message("CPU 0 BANK 1 STATUS 0x1ffffffffffffffff").contains("is not a number mce-inject reads"))
        #expect(message("CPU 0 BANK 1 ADDR") == "test:1: ADDR needs a number (the file ends)")
        #expect(message("CPU 0 BANK 1 STATUS 5 $") == "test:1: unrecognized character '$'")
        #expect(message("CPU 0 BANK 1 STATUS 09").contains("'09' is not a number"))
        #expect(message("# only a comment") == "")
    }
}

/// mce-inject files as plans: one record at a time through debugfs, each as QEMU's `mce` command.
@Suite struct RecordFilePlanTests {
    static let files = Dictionary(
        uniqueKeysWithValues: ["flags", "cpu", "status", "misc", "addr", "bank"].map {
            ("sys/kernel/debug/mce-inject/\($0)", "")
        })

    @Test func eachRecordIsWrittenBankLastAndExpectedInTheTrace() throws {
        let plan = try TestTarget(files: Self.files).plan(
            MCEBackend(),
            ["file": "CPU 0 BANK 1\nSTATUS CORRECTED\nADDR 0xabcd\nCPU 1 BANK 2\nSTATUS CORRECTED\nADDR 0x1234\n"])
        let writes = plan.steps.compactMap { step -> String? in
            if case .writeAttribute(let path, let value) = step.action {
                return "\(path.split(separator: "/").last!)=\(value)"
            }
            return nil
        }
        #expect(
            writes == [
                "flags=sw\n", "cpu=0", "status=0x9400000000000000", "misc=0x0", "addr=0xabcd", "bank=1",
                "cpu=1", "status=0x9400000000000000", "misc=0x0", "addr=0x1234", "bank=2",
            ])
        #expect(plan.steps.filter(\.isTrigger).count == 2)
        #expect(
            plan.expectations == [
                .traceEvent("mce:mce_record", fields: "bank=1 status=0x9400000000000000"),
                .traceEvent("mce:mce_record", fields: "bank=2 status=0x9400000000000000"),
            ])
        #expect(plan.steps[1].note?.hasPrefix("record 1 of 2 (test:1):\nCPU 0\nBANK 1\n") == true)
        #expect(plan.confirmationReasons.isEmpty)
    }

    @Test func qemuRaisesAnUncorrectedRecordOnEveryCPUUnlessNoBroadcast() throws {
        let plan = try TestTarget(hasQMP: true).plan(
            MCEBackend(),
            [
                "via": "qemu",
                "file":
                    "CPU 1 BANK 4 STATUS FATAL ADDR 0x5000 RIP 0x10:0x400\nCPU 0 BANK 1 STATUS UNCORRECTED NOBROADCAST MCGSTATUS RIPV MCIP",
            ])
        let commands = plan.steps.compactMap { step -> String? in
            if case .qmp(_, let arguments) = step.action { return arguments }
            return nil
        }
        #expect(
            commands == [
                "{\"command-line\": \"mce -b 1 4 0xb600000000000000 0x5 0x5000 0x0\"}",
                "{\"command-line\": \"mce 0 1 0xb000000000000000 0x5 0x0 0x0\"}",
            ])
        #expect(plan.steps[0].note?.contains("not carried by QEMU: RIP (the vCPU's own)") == true)
        #expect(!plan.confirmationReasons.isEmpty, "uncorrected records need --yes")
    }

    @Test func whatARecordSetsCannotAlsoBeGivenAndAnEmptyFileIsNamed() {
        #expect(throws: BackendError.self) {
            try TestTarget(files: Self.files).plan(MCEBackend(), ["file": "CPU 0 BANK 1 STATUS 1", "bank": "3"])
        }
        #expect(throws: BackendError.self) {
            try TestTarget(files: Self.files).plan(MCEBackend(), ["file": "# nothing\n"])
        }
        #expect(throws: BackendError.self) {
            try TestTarget(files: Self.files).plan(MCEBackend(), ["file": "CPU 9000 BANK 1 STATUS 1"])
        }
        #expect(throws: BackendError.self) {
            try TestTarget(files: Self.files).plan(MCEBackend(), ["file": "CPU 0 BANK 64 STATUS 1"])
        }
    }
}
