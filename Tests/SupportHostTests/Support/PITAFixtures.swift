import Foundation

/// PITA-XML documents written for the tests, in the shape `PITA::XML` 0.52 writes them.
enum PITAFixtures {
    static let namespace = "http://ali.as/xml/schema/pita-xml/0.52"

    /// A `<report>` of one install: three commands and two TAP tests (one with a failure and a
    /// TODO).
    static let report = """
        <?xml version='1.0' encoding='UTF-8'?>
        <report xmlns='\(namespace)'>
        <install>
        <request id='C9B5CA9C-1F1D-11DC-9C24-5C96A8D2E7E0'>
        <scheme>perl5</scheme>
        <distname>PITA-Test-Dummy-Perl5-Make</distname>
        <file>
        <filename>PITA-Test-Dummy-Perl5-Make-1.01.tar.gz</filename>
        <digest>MD5.5cf0529234bac9935fc74f9579cc5be8</digest>
        </file>
        </request>
        <platform>
        <scheme>perl5</scheme>
        <path>/usr/bin/perl</path>
        <env name='PATH'>/usr/local/bin:/usr/bin:/bin</env>
        <config name='osname'>linux</config>
        <config name='archname'>x86_64-linux-gnu-thread-multi</config>
        </platform>
        <command>
        <cmd>perl Makefile.PL</cmd>
        <stdout>Checking if your kit is complete...
        Looks good
        Writing Makefile for PITA::Test::Dummy::Perl5::Make
        </stdout>
        <stderr />
        </command>
        <command>
        <cmd>make</cmd>
        <stdout>cp lib/PITA/Test/Dummy/Perl5/Make.pm blib/lib/PITA/Test/Dummy/Perl5/Make.pm
        </stdout>
        <stderr />
        </command>
        <command>
        <cmd>make test</cmd>
        <stdout>t/01_main....ok
        t/02_more....FAILED test 2
        </stdout>
        <stderr />
        <exitcode>2</exitcode>
        </command>
        <test language='text/x-tap' name='t/01_main.t'>
        <stdout>1..3
        ok 1 - Input file opened
        ok 2 - Read the rest of the file
        ok 3 - Summarized correctly
        </stdout>
        <stderr />
        <exitcode>0</exitcode>
        </test>
        <test language='text/x-tap' name='t/02_more.t'>
        <stdout>1..4
        ok 1 - Input file opened
        # diagnostic
        not ok 2 - First line of the input valid
        ok 3 - Read the rest of the file
        not ok 4 - Summarized correctly # TODO Not written yet
        </stdout>
        <stderr>#   Failed test 'First line of the input valid'
        </stderr>
        <exitcode>1</exitcode>
        </test>
        </install>
        </report>
        """

    /// A `<guest>` that discovered two perls; `archname` lets a test change one pair.
    static func guest(archname: String = "x86_64-linux-gnu-thread-multi") -> String {
        """
        <?xml version='1.0' encoding='UTF-8'?>
        <guest xmlns='\(namespace)' id='17585D96-2896-11DC-B63B-8D0B94882154'>
        <driver>Image::Test</driver>
        <config name='memory'>256</config>
        <platform>
        <scheme>perl5</scheme>
        <path>/usr/bin/perl</path>
        <env name='PATH'>/usr/local/bin:/usr/bin:/bin</env>
        <env name='PERL5LIB'><null /></env>
        <config name='osname'>linux</config>
        <config name='archname'>\(archname)</config>
        </platform>
        <platform>
        <scheme>perl5</scheme>
        <path>/opt/perl-5.8.8/bin/perl</path>
        <env name='PATH'>/opt/perl-5.8.8/bin:/usr/bin:/bin</env>
        <config name='osname'>linux</config>
        <config name='version'>5.8.8</config>
        </platform>
        </guest>
        """
    }

    /// A platform as JSON, for `/discover`.
    static let jsonPlatform = #"{"scheme":"python3","path":"/usr/bin/python3","env":{"LANG":"C.UTF-8"},"config":{"version":"3.12.3"}}"#

    /// External entity: would read a host file if the parser resolved it.
    static let xxe = """
        <?xml version="1.0"?>
        <!DOCTYPE guest [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
        <guest xmlns='\(namespace)'><platform><scheme>perl5</scheme><path>&secret;</path></platform></guest>
        """

    /// Billion laughs: ten levels of ten-fold entity expansion.
    static let billionLaughs: String = {
        var lines = ["<?xml version=\"1.0\"?>", "<!DOCTYPE lolz [", "<!ENTITY lol0 \"lol\">"]
        for level in 1...9 {
            lines.append("<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">")
        }
        lines.append("]>")
        lines.append("<guest xmlns='\(namespace)'><platform><scheme>perl5</scheme><path>&lol9;</path></platform></guest>")
        return lines.joined(separator: "\n")
    }()
}
