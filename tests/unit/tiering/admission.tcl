# Read-through admission: under LRU demotion, while eviction demotes, a cold value whose
# previous access is older than eviction's victims are is read through (served, then back
# to cold in the next turn, as a clean copy without a write) instead of being kept in RAM.
# A value read recently, or any value under an LFU policy, is kept.

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides {maxmemory-policy allkeys-lru}]] {
    set value [randstring 1024 1024 alpha]

    # An old key (last read 100000 s ago, as RESTORE IDLETIME says) made cold by hand.
    proc old_cold_key {key value} {
        r set $key $value
        set dump [r dump $key]
        r del $key
        r restore $key 0 $dump idletime 100000
        tier_demote $key
    }

    # Eviction demotes now: memory is put over maxmemory by fresh writes.
    proc evict_some {value} {
        for {set i 0} {$i < 200} {incr i} { r set fresh:[incr ::fresh_id] $value }
        assert_morethan [tier_stat flash_demotions] 0
    }

    test {Tiering: an old cold value read under eviction is read through and goes back to cold} {
        for {set i 0} {$i < 2000} {incr i} { r set fill:$i $value }
        r config set maxmemory [expr {[s used_memory] - 512 * 1024}]
        set ::fresh_id 0
        old_cold_key old1 "old1:$value"
        old_cold_key old2 "old2:$value"
        evict_some $value
        set readthrough [tier_stat flash_readthrough_promotions]
        set clean [tier_stat flash_demotions_clean]
        assert_equal "old1:$value" [r get old1]
        r ping ;# the next turn sends it back, as a clean copy: no write
        tier_assert_tier cold old1
        assert_equal [expr {$readthrough + 1}] [tier_stat flash_readthrough_promotions]
        assert_morethan [tier_stat flash_demotions_clean] $clean
        # Both keys of one command: the value landing first stays until the command ran.
        old_cold_key old3 "old3:$value"
        evict_some $value
        assert_equal [list "old2:$value" "old3:$value"] [r mget old2 old3]
        r ping
        assert_equal "old1:$value" [r get old1]
        assert_equal 0 [tier_stat flash_read_failures]
    }

    test {Tiering: a value read through and changed stays in RAM with its change} {
        old_cold_key old4 "old4:$value"
        evict_some $value
        assert_equal [string length "old4:$value!"] [r append old4 "!"]
        r ping
        tier_assert_tier hot old4
        assert_equal "old4:$value!" [r get old4]
    }

    test {Tiering: under an LFU policy, a cold value read is kept in RAM} {
        r config set maxmemory-policy allkeys-lfu
        old_cold_key old5 "old5:$value"
        evict_some $value
        set readthrough [tier_stat flash_readthrough_promotions]
        assert_equal "old5:$value" [r get old5]
        r ping
        tier_assert_tier hot old5
        assert_equal $readthrough [tier_stat flash_readthrough_promotions]
        r config set maxmemory-policy allkeys-lru
    }
}
