# A writer for the durability test (integration/durability.tcl), run as its own process:
#
#   tclsh aof_writer.tcl <host> <port> <tag> <ackfile>
#
# It sends, one at a time, INCR counter and SET <tag>:<n> <n>, and appends a line to
# ackfile for every write the server acknowledged ("incr <value>" / "set <key> <value>"),
# flushed at once. It stops at the first error (the server was killed).

lassign $argv host port tag ackfile

set out [open $ackfile a]
fconfigure $out -buffering line

proc request {fd args} {
    set req "*[llength $args]\r\n"
    foreach arg $args {
        append req "\$[string length $arg]\r\n$arg\r\n"
    }
    puts -nonewline $fd $req
    flush $fd
    if {[gets $fd line] < 0} {
        error "connection closed"
    }
    return [string trimright $line "\r"]
}

if {[catch {socket $host $port} fd]} {
    exit 1
}
fconfigure $fd -translation binary -blocking 1

for {set n 0} {1} {incr n} {
    if {[catch {request $fd INCR counter} reply] || [string index $reply 0] ne ":"} {
        break
    }
    puts $out "incr [string range $reply 1 end]"
    set key "$tag:$n"
    if {[catch {request $fd SET $key $n} reply] || $reply ne "+OK"} {
        break
    }
    puts $out "set $key $n"
}
close $out
exit 0
