package org.peft4j.run

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.TinyBert
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** predict with an AdaLoRA adapter as PEFT writes a SEQ_CLS one: a module pruned to rank 0, modules_to_save [classifier, score]. */
class PredictorAdaLoraSpec extends Specification {

    NDManager manager = Backend.get().manager()

    @TempDir
    Path tmp

    def "Predictor takes an AdaLoRA adapter with a rank-0 module and the head PEFT lists twice, and gives its logits"() {
        given:
        Path base = TinyTokenizer.writeTo(new TinyBert(5).writeTo(tmp.resolve('base')))
        Backend.get().seed(13)
        def model = BertForSequenceClassification.fromPretrained(base, 3, 1)
        def ada = AdaLoraInjector.inject(model, AdaLoraConfig.builder().initR(3).targetR(2).tinit(1).tfinal(1)
                .totalSteps(10).alpha(6).targets(['query', 'value']).modulesToSave(['classifier', 'pooler']).build(), manager)
        ada.adapterParameters().values().each { it.set(manager.randomNormal(0f, 0.5f, it.value().shape, DataType.FLOAT32)) }
        ada.layers()['bert.encoder.layer.0.attention.self.value'].setMask(manager.zeros(new Shape(3, 1)))
        model.train(false)
        float[] direct = model.forward(manager.create([[2L, 4L, 8L, 13L, 3L]] as long[][]), null, null).toFloatArray()
        ada.save(tmp.resolve('adapter'), 'SEQ_CLS', base.toString())
        Path config = tmp.resolve('adapter/adapter_config.json')
        // PeftModelForSequenceClassification adds both of its head names, whatever the model calls its head
        Files.writeString(config, Files.readString(config).replace('[ "classifier", "pooler" ]', '[ "classifier", "pooler", "score" ]'))
        assert Files.readString(config).contains('"score"')

        when: '"a e j" is [CLS] a e j [SEP] = 2 4 8 13 3'
        def predictor = Predictor.open(base, tmp.resolve('adapter'), ['ham', 'spam', 'eggs'], 0)
        float[] logits = predictor.logits(['a e j'], 4)[0]
        predictor.close()

        then:
        (0..<3).every { Math.abs(logits[it] - direct[it]) < 1e-5 }
    }
}
