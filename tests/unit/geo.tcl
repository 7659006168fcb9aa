# GEO commands: scores compatible with Valkey's 52-bit geohashes, GEOPOS/GEOHASH/GEODIST
# formatting, every search variant (radius, box, from member or coordinates, ANY, COUNT,
# ASC/DESC, STORE/STOREDIST, the _RO forms) with their errors, on listpack- and
# skiplist-encoded sets, and a brute-force check of search results.

proc geo_setup {} {
    r del Sicily
    r geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.6 38.1 Other
}

# Haversine with Valkey's Earth radius, to check search results independently.
proc geo_distance {lon1 lat1 lon2 lat2} {
    set r 6372797.560856
    set d2r [expr {acos(-1) / 180.0}]
    set u [expr {sin(($lat2 - $lat1) * $d2r / 2)}]
    set v [expr {sin(($lon2 - $lon1) * $d2r / 2)}]
    set a [expr {$u * $u + cos($lat1 * $d2r) * cos($lat2 * $d2r) * $v * $v}]
    return [expr {2.0 * $r * asin(sqrt($a))}]
}

proc geo_suite {enc} {
    test "GEOADD stores 52-bit geohash scores - $enc" {
        geo_setup
        assert_encoding $enc Sicily
        assert_equal {Palermo 3479099956230698 Other 3479102186019391 Catania 3479447370796909} \
            [r zrange Sicily 0 -1 withscores]
        assert_equal 0 [r geoadd Sicily 13.361389 38.115556 Palermo]
        assert_equal 1 [r geoadd Sicily 180 85.05112878 edge]
        assert_equal 13510798882111488 [r zscore Sicily edge]
        assert_equal 1 [r geoadd Sicily -180 -85.05112878 edge2]
        assert_equal 0 [r zscore Sicily edge2]
    }

    test "GEOADD NX / XX / CH - $enc" {
        geo_setup
        assert_equal 1 [r geoadd Sicily nx 1 1 Palermo 2 2 New]
        assert_equal 3479099956230698 [r zscore Sicily Palermo]
        assert_equal 0 [r geoadd Sicily xx 1 1 Palermo 3 3 Missing]
        assert_equal {} [r zscore Sicily Missing]
        assert_equal 2 [r geoadd Sicily xx ch 13.361389 38.115556 Palermo 5 5 New]
        assert_error "ERR syntax error" {r geoadd Sicily xx nx 1 1 a}
        assert_error "ERR syntax error" {r geoadd Sicily ch 1 1 a 2}
        assert_error "ERR wrong number of arguments for 'geoadd' command" {r geoadd Sicily 1 1}
    }

    test "GEOADD coordinate errors - $enc" {
        geo_setup
        assert_error "ERR invalid longitude,latitude pair 200.000000,100.000000" {r geoadd Sicily 200 100 bad}
        assert_error "ERR invalid longitude,latitude pair 10.000000,85.051130" {r geoadd Sicily 10 85.05113 bad}
        assert_error "ERR value is not a valid float" {r geoadd Sicily x 1 bad}
        # Nothing of a failed GEOADD is added.
        assert_error "ERR invalid*" {r geoadd Sicily 1 1 good 200 1 bad}
        assert_equal {} [r zscore Sicily good]
    }

    test "GEOPOS and GEOHASH - $enc" {
        geo_setup
        assert_equal {{13.36138933897018433 38.11555639549629859} {15.08726745843887329 37.50266842333162032} {}} \
            [r geopos Sicily Palermo Catania nosuch]
        assert_equal {{}} [r geopos nokey a]
        assert_equal {sqc8b49rny0 sqdtr74hyu0 {}} [r geohash Sicily Palermo Catania nosuch]
        assert_equal {{} {}} [r geohash nokey a b]
        r geoadd Sicily 180 85.05112878 edge -180 -85.05112878 edge2
        assert_equal {bp05b5048p0 00bh0hbj200} [r geohash Sicily edge edge2]
        assert_equal {180 85.0511287799999991} [lindex [r geopos Sicily edge] 0]
    }

    test "GEODIST in every unit - $enc" {
        geo_setup
        assert_equal 166274.1516 [r geodist Sicily Palermo Catania]
        assert_equal 166.2742 [r geodist Sicily Palermo Catania km]
        assert_equal 166.2742 [r geodist Sicily Palermo Catania KM]
        assert_equal 103.3182 [r geodist Sicily Palermo Catania mi]
        assert_equal 545518.8700 [r geodist Sicily Palermo Catania ft]
        assert_equal 0.0000 [r geodist Sicily Palermo Palermo]
        assert_equal {} [r geodist Sicily Palermo nosuch]
        assert_equal {} [r geodist nokey a b]
        assert_error "ERR unsupported unit provided. please use M, KM, FT, MI" {r geodist Sicily Palermo Catania foo}
        assert_error "ERR syntax error" {r geodist Sicily Palermo Catania km x}
    }

    test "GEORADIUS with WITHDIST / WITHCOORD / WITHHASH, ASC / DESC, COUNT, ANY - $enc" {
        geo_setup
        assert_equal {{Catania 56.4413 3479447370796909 {15.08726745843887329 37.50266842333162032}} {Other 173.8075 3479102186019391 {13.59999865293502808 38.10000081174143105}} {Palermo 190.4424 3479099956230698 {13.36138933897018433 38.11555639549629859}}} \
            [r georadius Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC]
        assert_equal {Palermo Other Catania} [r georadius Sicily 15 37 200 km DESC]
        assert_equal {Palermo} [r georadius Sicily 15 37 200 km DESC COUNT 1]
        assert_equal {Catania Other} [r georadius Sicily 15 37 200 km COUNT 2]
        assert_equal 1 [llength [r georadius Sicily 15 37 200 km COUNT 1 ANY]]
        assert_equal {Catania} [r georadius Sicily 15 37 100 km]
        assert_equal {} [r georadius Sicily 0 0 0 m]
        assert_equal {} [r georadius nokey 15 37 200 km]
        assert_equal {{Palermo 0.0000} {Other 20.9543} {Catania 166.2742}} \
            [r georadiusbymember Sicily Palermo 200 km WITHDIST ASC]
        assert_equal {Palermo Other} [r georadiusbymember_ro Sicily Palermo 100 km ASC]
        assert_equal {Catania Other Palermo} [r georadius_ro Sicily 15 37 200 km ASC]
    }

    test "GEORADIUS errors - $enc" {
        geo_setup
        assert_error "ERR the ANY argument requires COUNT argument" {r georadius Sicily 15 37 200 km ANY}
        assert_error "ERR COUNT must be > 0" {r georadius Sicily 15 37 200 km COUNT 0}
        assert_error "ERR radius cannot be negative" {r georadius Sicily 15 37 -1 km}
        assert_error "ERR need numeric radius" {r georadius Sicily 15 37 x km}
        assert_error "ERR unsupported unit provided. please use M, KM, FT, MI" {r georadius Sicily 15 37 10 ly}
        assert_error "ERR invalid longitude,latitude pair 200.000000,37.000000" {r georadius Sicily 200 37 10 km}
        assert_error "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options" \
            {r georadius Sicily 15 37 200 km STORE dst WITHDIST}
        assert_error "ERR syntax error" {r georadius_ro Sicily 15 37 200 km STORE dst}
        assert_error "ERR syntax error" {r georadius Sicily 15 37 200 km FOO}
        assert_error "ERR could not decode requested zset member" {r georadiusbymember Sicily nosuch 200 km}
        # Without the key, the member and radius are not looked at.
        assert_equal {} [r georadiusbymember nokey nosuch x km]
    }

    test "GEORADIUS STORE and STOREDIST - $enc" {
        geo_setup
        r del dst
        assert_equal 3 [r georadius Sicily 15 37 200 km STORE dst]
        assert_equal [r zrange Sicily 0 -1 withscores] [r zrange dst 0 -1 withscores]
        assert_equal 3 [r georadius Sicily 15 37 200 km STOREDIST dst]
        assert_equal {Catania 56.4412578701582 Other 173.80747737709316 Palermo 190.44242984775784} \
            [r zrange dst 0 -1 withscores]
        assert_equal 1 [r georadius Sicily 15 37 200 km STORE dst COUNT 1]
        assert_equal {Catania} [r zrange dst 0 -1]
        assert_equal 0 [r georadius Sicily 15 37 1 m STORE dst]
        assert_equal 0 [r exists dst]
        r set dst x
        assert_equal 0 [r georadius nokey 15 37 1 m STORE dst]
        assert_equal 0 [r exists dst]
    }

    test "GEOSEARCH from a member or coordinates, by radius or box - $enc" {
        geo_setup
        assert_equal {{Catania 56.4413} {Other 173.8075} {Palermo 190.4424}} \
            [r geosearch Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST]
        assert_equal {Palermo Other Catania} [r geosearch Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC]
        assert_equal {Palermo Other} [r geosearch Sicily FROMMEMBER Palermo BYBOX 100 100 km ASC]
        # A box is not a circle: Catania is 56 km away, mostly north-south.
        assert_equal {} [r geosearch Sicily FROMLONLAT 15 37 BYBOX 10 50 km]
        assert_equal {Catania} [r geosearch Sicily FROMLONLAT 15 37 BYRADIUS 57 km]
        assert_equal {Catania} [r geosearch Sicily FROMLONLAT 15 37 BYBOX 200 200 km]
        assert_equal {} [r geosearch nokey FROMMEMBER x BYRADIUS 200 km]
    }

    test "GEOSEARCH errors - $enc" {
        geo_setup
        assert_error "ERR syntax error" {r geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km FROMLONLAT 1 1}
        assert_error "ERR syntax error" {r geosearch Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km}
        assert_error "ERR syntax error" {r geosearch Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x}
        assert_error "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch" \
            {r geosearch Sicily BYRADIUS 200 km ASC WITHDIST}
        assert_error "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH" \
            {r GEOSEARCH Sicily FROMLONLAT 15 37 ASC WITHDIST}
        assert_error "ERR height or width cannot be negative" {r geosearch Sicily FROMLONLAT 15 37 BYBOX -1 1 km}
        assert_error "ERR need numeric width" {r geosearch Sicily FROMLONLAT 15 37 BYBOX x 1 km}
        assert_error "ERR need numeric height" {r geosearch Sicily FROMLONLAT 15 37 BYBOX 1 y km}
        assert_error "ERR could not decode requested zset member" {r geosearch Sicily FROMMEMBER nosuch BYRADIUS 1 km}
        assert_error "ERR the ANY argument requires COUNT argument" {r geosearch Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY}
        assert_error "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options" \
            {r geosearchstore dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST}
    }

    test "GEOSEARCHSTORE - $enc" {
        geo_setup
        assert_equal 3 [r geosearchstore dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km]
        assert_equal [r zrange Sicily 0 -1 withscores] [r zrange dst 0 -1 withscores]
        assert_equal 2 [r geosearchstore dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST COUNT 2]
        assert_equal {Catania 56.4412578701582 Other 173.80747737709316} [r zrange dst 0 -1 withscores]
        assert_equal 0 [r geosearchstore dst nokey FROMLONLAT 15 37 BYRADIUS 200 km]
        assert_equal 0 [r exists dst]
        # No member in range, sorted: the destination goes (nothing to sort; UBSan once
        # caught qsort called on the empty, NULL result array here).
        r set dst x
        assert_equal 0 [r geosearchstore dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km ASC]
        assert_equal 0 [r exists dst]
        r set dst x
        assert_equal 0 [r georadius Sicily 0 0 1 km DESC STORE dst]
        assert_equal 0 [r exists dst]
    }

    test "WRONGTYPE on the GEO commands - $enc" {
        r del str
        r set str v
        assert_error "WRONGTYPE*" {r geoadd str 1 1 a}
        assert_error "WRONGTYPE*" {r geopos str a}
        assert_error "WRONGTYPE*" {r geohash str a}
        assert_error "WRONGTYPE*" {r geodist str a b}
        assert_error "WRONGTYPE*" {r geosearch str FROMLONLAT 1 1 BYRADIUS 1 km}
        assert_error "WRONGTYPE*" {r georadius str 1 1 1 km}
    }
}

start_server {tags {"geo"}} {
    geo_suite listpack
}

start_server {tags {"geo"} overrides {zset-max-listpack-entries 0}} {
    geo_suite skiplist
}

start_server {tags {"geo"}} {
    test "Searches find exactly the points within the radius (brute force)" {
        r del pts
        set points {}
        expr {srand(42)}
        for {set i 0} {$i < 400} {incr i} {
            set lon [expr {10 + rand() * 4}]
            set lat [expr {40 + rand() * 4}]
            r geoadd pts $lon $lat p$i
            lassign [lindex [r geopos pts p$i] 0] lon lat
            lappend points [list p$i $lon $lat]
        }
        foreach {clon clat radius} {12 42 50 11 41 120 13.5 43.5 10 12 42 300} {
            set expected {}
            foreach p $points {
                lassign $p name lon lat
                if {[geo_distance $clon $clat $lon $lat] <= $radius * 1000} {
                    lappend expected $name
                }
            }
            set got [r geosearch pts FROMLONLAT $clon $clat BYRADIUS $radius km]
            assert_equal [lsort $expected] [lsort $got] "around $clon,$clat r=$radius"
        }
    }

    test "A search near the poles and across the antimeridian" {
        r del w
        r geoadd w 179.9 10 east -179.9 10 west 0 84 north
        assert_equal {east west} [r geosearch w FROMLONLAT 179.95 10 BYRADIUS 50 km ASC]
        assert_equal {north} [r geosearch w FROMLONLAT 10 84 BYRADIUS 200 km]
    }

    test "RESP3: GEOPOS coordinates are doubles, distances stay strings" {
        geo_setup
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd readraw 1
        $rd geopos Sicily Palermo nosuch
        set lines {}
        for {set i 0} {$i < 5} {incr i} {
            lappend lines [$rd read]
        }
        assert_equal {*2 *2 ,13.36138933897018433 ,38.11555639549629859 _} [join $lines " "]
        $rd geodist Sicily Palermo Catania
        assert_equal {$11 166274.1516} [join [list [$rd read] [$rd read]] " "]
        $rd close
    }
}
