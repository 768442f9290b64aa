package org.peft4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

/** The input's text column and the columns a job adds, checked on the driver before any executor starts. */
final class Columns {

    private Columns() {
    }

    /** The index of the string column {@code name} in {@code schema}; the message lists the columns there are. */
    static int text(StructType schema, String name) {
        List<String> names = Arrays.asList(schema.fieldNames());
        if (!names.contains(name)) {
            throw new IllegalArgumentException("the input has no column '" + name + "'; its columns are " + names
                    + "; choose the text column with the textColumn option (--text-column)");
        }
        StructField field = schema.apply(name);
        if (!field.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + name + "' holds " + field.dataType().simpleString()
                    + ", not strings; the text column must be a string column");
        }
        return schema.fieldIndex(name);
    }

    /** {@code schema} with {@code added} after its columns; a name it already has is refused. */
    static StructType with(StructType schema, StructField... added) {
        StructType out = schema;
        for (StructField f : added) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column '" + f.name()
                        + "', which the job writes; rename or drop it first");
            }
            out = out.add(f);
        }
        return out;
    }

    /** The text of a row, refused when null so that the message names the column. */
    static String textOf(Row row, int index, String name) {
        if (row.isNullAt(index)) {
            throw new IllegalArgumentException("a row has no text (null) in column '" + name + "': " + row
                    + "; filter such rows out first (e.g. dataset.na().drop(new String[]{\"" + name + "\"}))");
        }
        return row.getString(index);
    }

    /** {@code row}'s values followed by {@code added}. */
    static Row append(Row row, Object... added) {
        Object[] values = new Object[row.length() + added.length];
        for (int i = 0; i < row.length(); i++) {
            values[i] = row.get(i);
        }
        System.arraycopy(added, 0, values, row.length(), added.length);
        return org.apache.spark.sql.RowFactory.create(values);
    }
}
