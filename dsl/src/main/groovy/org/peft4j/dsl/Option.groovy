package org.peft4j.dsl

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

/**
 * Marks a method that a recipe may call as an option of its block. Error messages list these names, and
 * {@code --set block.name=value} overrides reach exactly these methods, so the DSL has one list of options.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Option {
}
