package org.peft4j.data

import spock.lang.Specification

class ShardSpec extends Specification {

    def "#workers workers split #n rows into contiguous blocks, in rank order, whose sizes differ by at most one"() {
        when:
        List<Shard> shards = (0..<workers).collect { new Shard(it, workers) }
        List<Integer> sizes = shards.collect { it.to(n) - it.from(n) }

        then: 'the blocks cover 0..n-1 once, each starting where the one before ends'
        shards[0].from(n) == 0
        shards[-1].to(n) == n
        (1..<workers).every { shards[it].from(n) == shards[it - 1].to(n) }
        sizes.sum() == n
        sizes.max() - sizes.min() <= 1

        where:
        workers | n
        1       | 7
        2       | 7
        3       | 7
        4       | 2
        4       | 0
        8       | 1_000_003
    }

    def "the first n mod N workers take one row more"() {
        expect:
        (0..<4).collect { new Shard(it, 4) }.collect { it.to(10) - it.from(10) } == [3, 3, 2, 2]
    }

    def "an index outside the workers is refused with both numbers"() {
        when:
        new Shard(4, 4)

        then:
        IllegalArgumentException e = thrown()
        e.message.contains('shard 4 of 4')
    }
}
