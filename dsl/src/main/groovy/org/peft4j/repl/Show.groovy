package org.peft4j.repl

import ai.djl.ndarray.NDArray
import org.peft4j.dsl.Recipe
import org.peft4j.nn.Module
import org.peft4j.nn.ModuleTree
import org.peft4j.nn.Parameter
import org.peft4j.run.MetricFormat
import org.peft4j.run.Plan
import org.peft4j.tensor.TensorSummary

/**
 * How the REPL prints a value: a model as its module tree and trainable count, a recipe as its resolved
 * configuration, a plan as the check's table, a tensor as shape, dtype, device and first values, metrics as a
 * table, a long series of numbers as a sparkline; anything else as Groovy prints it.
 */
final class Show {

    /** Characters of a plain value's text before it is cut. */
    static final int LIMIT = 2000

    private Show() {
    }

    static String of(Object v) {
        switch (v) {
            case Module: return ModuleTree.format((Module) v, ModuleView.LINES)
            case Recipe: return ReplRecipe.describe((Recipe) v)
            case Plan: return ((Plan) v).describe().stripTrailing()
            case NDArray: return TensorSummary.of((NDArray) v)
            case Parameter:
                Parameter p = (Parameter) v
                return "parameter${p.trainable() ? ' (trainable)' : ''} ${TensorSummary.of(p.value())}"
            case Map:
                Map m = (Map) v
                if (m && m.values().every { it instanceof Map && ((Map) it).values().every { x -> x instanceof Number } }) {
                    return metrics((Map<String, Map<String, Number>>) m)
                }
                break
            case List:
                List l = (List) v
                if (l.size() > 8 && l.every { it instanceof Number }) {
                    List<Number> n = (List<Number>) l
                    return String.format('%s  %d values: first %.4f, last %.4f, min %.4f', Sparkline.of(n), n.size(),
                            n.first().doubleValue(), n.last().doubleValue(), n*.doubleValue().min())
                }
                break
        }
        String s = org.codehaus.groovy.runtime.InvokerHelper.toString(v)
        s.length() > LIMIT ? s.substring(0, LIMIT) + ' …' : s
    }

    /** Splits as rows, metrics as columns. */
    static String metrics(Map<String, Map<String, Number>> bySplit) {
        List<String> names = bySplit.values().collectMany { it.keySet() as List<String> }.unique()
        int w = Math.max(8, (bySplit.keySet()*.length().max() ?: 0) as int)
        StringBuilder sb = new StringBuilder(String.format("%-${w}s", 'split'))
        names.each { sb << String.format(' %10s', it) }
        bySplit.each { split, m ->
            sb << '\n' << String.format("%-${w}s", split)
            names.each { n ->
                Number x = m[n]
                sb << (x == null ? String.format(' %10s', '—') : MetricFormat.isCount(n)
                        ? String.format(' %10d', x.longValue()) : String.format(' %10.4f', x.doubleValue()))
            }
        }
        sb.toString()
    }
}
