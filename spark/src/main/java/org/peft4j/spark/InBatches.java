package org.peft4j.spark;

import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * A partition's rows mapped batch by batch: {@code size} input rows are read, mapped together and
 * handed out before the next batch is read, so a partition of any size holds one batch in memory.
 */
final class InBatches implements Iterator<Row> {

    private final Iterator<Row> input;
    private final int size;
    private final Function<List<Row>, List<Row>> map;
    private Iterator<Row> mapped = Collections.emptyIterator();

    InBatches(Iterator<Row> input, int size, Function<List<Row>, List<Row>> map) {
        this.input = input;
        this.size = size;
        this.map = map;
    }

    @Override
    public boolean hasNext() {
        while (!mapped.hasNext() && input.hasNext()) {
            List<Row> batch = new ArrayList<>(size);
            while (batch.size() < size && input.hasNext()) {
                batch.add(input.next());
            }
            mapped = map.apply(batch).iterator();
        }
        return mapped.hasNext();
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return mapped.next();
    }
}
